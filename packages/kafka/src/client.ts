import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import type { Logger } from '@app/service-kit';

export interface KafkaClientOptions {
  brokers: string[] | string;
  clientId: string;
  logger: Logger;
  retry?: RetryOptions;
}

export function parseBrokers(brokers: string[] | string): string[] {
  return (Array.isArray(brokers) ? brokers : brokers.split(','))
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/** kafkajs logs through the service's pino logger so every line has one shape. */
function pinoLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) logger.error({ kafka: extra }, message);
      else if (level === logLevel.WARN) logger.warn({ kafka: extra }, message);
      else if (level === logLevel.INFO) logger.debug({ kafka: extra }, message);
    };
}

export function createKafka({ brokers, clientId, logger, retry }: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId,
    brokers: parseBrokers(brokers),
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    // A broker restart takes seconds: keep retrying well past it rather than failing the caller.
    retry: retry ?? { initialRetryTime: 300, retries: 12, maxRetryTime: 5_000 },
  });
}
