export {
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  parseProfileUpdated,
  profileUpdatedEventSchema,
  type ParsedEvent,
  type ProfileSnapshot,
  type ProfileUpdateSource,
  type ProfileUpdatedEvent,
} from './profile-updated.ts';
export {
  DEFAULT_PROFILE_EVENTS_TOPIC,
  EVENT_HEADERS,
  PROFILE_EVENTS_PARTITIONS,
  deadLetterTopicFor,
} from './topics.ts';
