import { ConfigError } from '@app/service-kit';
import { readConfig } from '../src/config.ts';

const required = {
  MONGO_URL: 'mongodb://localhost:27017/profile',
  REDIS_URL: 'redis://localhost:6379',
  SECRET_KEY: 'a-secret-key-of-at-least-32-characters',
  ADMIN_TOKEN: 'an-admin-token-0123',
};
const production = {
  ...required,
  NODE_ENV: 'production',
  SMS_GATEWAY: 'http',
  SMS_GATEWAY_URL: 'https://sms.example.com/send',
};

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('profile-api configuration', () => {
  test('when NODE_ENV=production names the log SMS gateway, then it refuses to start with one line saying what to set', () => {
    const message = refusal({ ...production, SMS_GATEWAY: 'log' });

    expect(message).toBe(
      'invalid configuration: SMS_GATEWAY=log is refused with NODE_ENV=production: set SMS_GATEWAY=http and SMS_GATEWAY_URL, or ALLOW_LOG_SMS_GATEWAY=true to accept that no SMS is sent',
    );
    expect(message).not.toContain('\n');
  });

  test('when NODE_ENV=production leaves SMS_GATEWAY unset, then the log default is refused too', () => {
    const { SMS_GATEWAY: _gateway, SMS_GATEWAY_URL: _url, ...env } = production;

    expect(refusal(env)).toContain('SMS_GATEWAY=log is refused with NODE_ENV=production');
  });

  test('when the log SMS gateway is explicitly allowed in production, or outside production, then it starts', () => {
    expect(readConfig({ ...production, SMS_GATEWAY: 'log', ALLOW_LOG_SMS_GATEWAY: 'true' })).toMatchObject({
      smsGateway: 'log',
      allowLogSmsGateway: true,
    });
    expect(readConfig({ ...required, NODE_ENV: 'development' }).smsGateway).toBe('log');
    expect(readConfig({ ...required, NODE_ENV: 'test', SMS_GATEWAY: 'log' }).smsGateway).toBe('log');
  });

  test('when NODE_ENV=production, then the session cookie is Secure unless SESSION_COOKIE_SECURE=false', () => {
    expect(readConfig(production).sessionCookieSecure).toBe(true);
    expect(readConfig({ ...production, SESSION_COOKIE_SECURE: 'false' }).sessionCookieSecure).toBe(false);
  });

  test('when not in production, then the session cookie is not Secure unless asked for', () => {
    expect(readConfig(required).sessionCookieSecure).toBe(false);
    expect(readConfig({ ...required, NODE_ENV: 'test' }).sessionCookieSecure).toBe(false);
    expect(readConfig({ ...required, SESSION_COOKIE_SECURE: 'true' }).sessionCookieSecure).toBe(true);
  });

  test('when nothing says otherwise, then topics are created for one broker, admin and metrics share the public port, and shutdown gets 20 s', () => {
    expect(readConfig(required)).toMatchObject({
      topicDurability: { replicationFactor: 1, minInsyncReplicas: 1 },
      management: undefined,
      shutdownTimeoutMs: 20_000,
    });
  });

  test('when replication and a management port are configured, then they are read; the management host follows HOST', () => {
    const config = readConfig({
      ...required,
      HOST: '127.0.0.1',
      MANAGEMENT_PORT: '9080',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
    });

    expect(config.topicDurability).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(config.management).toEqual({ host: '127.0.0.1', port: 9080 });
    expect(readConfig({ ...required, MANAGEMENT_PORT: '0', MANAGEMENT_HOST: '10.0.0.5' }).management).toEqual(
      {
        host: '10.0.0.5',
        port: 0,
      },
    );
  });

  test('when OUTBOX_MAX_PENDING_PER_USER is unset, then a user may have 100 unpublished events; 0 is refused', () => {
    expect(readConfig(required).outboxMaxPendingPerUser).toBe(100);
    expect(readConfig({ ...required, OUTBOX_MAX_PENDING_PER_USER: '3' }).outboxMaxPendingPerUser).toBe(3);
    expect(refusal({ ...required, OUTBOX_MAX_PENDING_PER_USER: '0' })).toContain(
      'OUTBOX_MAX_PENDING_PER_USER',
    );
  });

  test('when min.insync.replicas exceeds the replication factor, then the configuration is refused', () => {
    expect(refusal({ ...required, KAFKA_REPLICATION_FACTOR: '1', KAFKA_MIN_INSYNC_REPLICAS: '2' })).toContain(
      '"KAFKA_MIN_INSYNC_REPLICAS" must not exceed KAFKA_REPLICATION_FACTOR',
    );
  });

  test('when TRUST_PROXY is unset, then no proxy is trusted', () => {
    expect(readConfig(required).trustProxy).toBe(false);
  });

  test.each([
    ['false', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['loopback, 10.1.2.3, 172.16.0.0/12 ,fd00::/8', ['loopback', '10.1.2.3', '172.16.0.0/12', 'fd00::/8']],
  ])('when TRUST_PROXY is %p, then express is given %p', (raw, expected) => {
    expect(readConfig({ ...required, TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  test.each(['yes', '-1', '1.5', '10.0.0.0/33', 'loopback, balancer.internal', ' , '])(
    'when TRUST_PROXY is %p, then the configuration is refused saying what it takes',
    (raw) => {
      expect(refusal({ ...required, TRUST_PROXY: raw })).toBe(
        'invalid configuration: "TRUST_PROXY" must be true, false, a number of proxy hops, or a comma list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal',
      );
    },
  );
  test('when DRAIN_DELAY_MS is unset, then shutdown does not wait; when it is not below SHUTDOWN_TIMEOUT_MS, then it is refused', () => {
    expect(readConfig(required).drainDelayMs).toBe(0);
    expect(readConfig({ ...required, DRAIN_DELAY_MS: '3000' }).drainDelayMs).toBe(3_000);
    expect(refusal({ ...required, DRAIN_DELAY_MS: '20000' })).toContain('DRAIN_DELAY_MS');
    expect(
      readConfig({ ...required, DRAIN_DELAY_MS: '20000', SHUTDOWN_TIMEOUT_MS: '30000' }).drainDelayMs,
    ).toBe(20_000);
  });
});
