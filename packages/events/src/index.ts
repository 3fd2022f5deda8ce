export {
  PROFILE_EVENTS_SCHEMA_VERSION,
  PROFILE_UPDATED,
  PROFILE_UPDATE_SOURCES,
  WRITABLE_PROFILE_FIELDS,
  parseProfileUpdated,
  profileUpdatedEventSchema,
  type ParsedEvent,
  type ProfileSnapshot,
  type ProfileUpdateSource,
  type ProfileUpdatedEvent,
  type WritableProfileField,
} from './profile-updated.ts';
export {
  DEFAULT_PROFILE_EVENTS_TOPIC,
  EVENT_HEADERS,
  PROFILE_EVENTS_PARTITIONS,
  deadLetterTopicFor,
} from './topics.ts';
