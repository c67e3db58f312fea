import { ApiConfig } from './api.config';
import { ConfigError, loadConfig } from './platform.config';
import { WorkerConfig } from './worker.config';

describe('loadConfig', () => {
  it('applies the defaults of .env.example when nothing is set', () => {
    const config = loadConfig(ApiConfig, {});
    expect(config.PORT).toBe(3000);
    expect(config.DB_PORT).toBe(3306);
    expect(config.TRACKING_TOKEN_TTL).toBe(172800);
    expect(config.QUEUE_PREFIX).toBe('adp');
    expect(config.PUBLIC_BASE_URL).toBe('http://localhost:3000');
  });

  it('trusts X-Forwarded-For only from the peers TRUST_PROXY names (loopback by default)', () => {
    expect(loadConfig(ApiConfig, {}).trustProxy()).toBe('loopback');
    expect(loadConfig(ApiConfig, { TRUST_PROXY: 'false' }).trustProxy()).toBe(false);
    expect(loadConfig(ApiConfig, { TRUST_PROXY: '10.0.0.0/8, 192.168.1.7' }).trustProxy()).toBe('10.0.0.0/8, 192.168.1.7');
    const hops = loadConfig(ApiConfig, { TRUST_PROXY: '2' }).trustProxy() as (address: string, hop: number) => boolean;
    expect([0, 1, 2].map((hop) => hops('10.0.0.1', hop))).toEqual([true, true, false]);
    expect(() => loadConfig(ApiConfig, { TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
  });
  it("takes a listener's IP named in a request only from the callers TRUST_DEVICE_IP names (loopback by default)", () => {
    const byDefault = loadConfig(ApiConfig, {}).deviceIpTrust();
    expect([byDefault('127.0.0.1'), byDefault('::1'), byDefault('203.0.113.9')]).toEqual([true, true, false]);
    const ssai = loadConfig(ApiConfig, { TRUST_DEVICE_IP: '10.0.0.0/8, 192.168.1.7' }).deviceIpTrust();
    expect([ssai('10.20.30.40'), ssai('192.168.1.7'), ssai('192.168.1.8'), ssai('127.0.0.1')]).toEqual([true, true, false, false]);
    expect(loadConfig(ApiConfig, { TRUST_DEVICE_IP: 'false' }).deviceIpTrust()('127.0.0.1')).toBe(false);
    expect(loadConfig(ApiConfig, { TRUST_DEVICE_IP: 'true' }).deviceIpTrust()('203.0.113.9')).toBe(true);
    expect(() => loadConfig(ApiConfig, { TRUST_DEVICE_IP: 'anyone' })).toThrow(/TRUST_DEVICE_IP/);
  });


  it('points tracking URLs at the configured port unless PUBLIC_BASE_URL is set', () => {
    expect(loadConfig(ApiConfig, { PORT: '8080' }).PUBLIC_BASE_URL).toBe('http://localhost:8080');
    expect(loadConfig(ApiConfig, { PORT: '8080', PUBLIC_BASE_URL: 'https://t.example.com' }).PUBLIC_BASE_URL).toBe('https://t.example.com');
    expect(() => loadConfig(ApiConfig, { PUBLIC_BASE_URL: 'ftp://x/y' })).toThrow(/PUBLIC_BASE_URL/);
  });

  it('keeps raw events 35 days by default, and refuses a retention that a still-valid token could outlive', () => {
    expect(loadConfig(WorkerConfig, {}).RAW_EVENTS_RETENTION_DAYS).toBe(35);
    expect(loadConfig(ApiConfig, { RAW_EVENTS_RETENTION_DAYS: '4', TRACKING_TOKEN_TTL: '172800' }).RAW_EVENTS_RETENTION_DAYS).toBe(4);
    expect(() => loadConfig(ApiConfig, { RAW_EVENTS_RETENTION_DAYS: '3', TRACKING_TOKEN_TTL: '172800' })).toThrow(/RAW_EVENTS_RETENTION_DAYS/);
    expect(() => loadConfig(WorkerConfig, { RAW_EVENTS_RETENTION_DAYS: '10', TRACKING_TOKEN_TTL: String(9 * 86400) })).toThrow(/RAW_EVENTS_RETENTION_DAYS/);
    expect(() => loadConfig(WorkerConfig, { RAW_EVENTS_RETENTION_DAYS: 'soon' })).toThrow(/RAW_EVENTS_RETENTION_DAYS/);
  });

  it('refuses the published development secrets in production, and names them without showing them', () => {
    expect(loadConfig(ApiConfig, {}).ADMIN_API_KEY).toBe('dev-admin-key-change-me');
    let error: ConfigError | undefined;
    try {
      loadConfig(ApiConfig, { NODE_ENV: 'production' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems.map((p) => p.split('=')[0]).sort()).toEqual(['ADMIN_API_KEY', 'TRACKING_SECRET']);
    expect(error!.message).toMatch(/published development default/);
    expect(error!.message).not.toContain('dev-tracking-secret');
    expect(() => loadConfig(ApiConfig, { NODE_ENV: 'production', TRACKING_SECRET: 'dev-tracking-secret-change-me-0123456789' })).toThrow(/TRACKING_SECRET/);
    const own = loadConfig(ApiConfig, { NODE_ENV: 'production', ADMIN_API_KEY: 'a-key-of-our-own-0001', TRACKING_SECRET: 's'.repeat(40) });
    expect(own.ADMIN_API_KEY).toBe('a-key-of-our-own-0001');
  });

  it('converts numbers and keeps an empty DB_PASSWORD', () => {
    const config = loadConfig(WorkerConfig, { WORKER_CONCURRENCY: '8', DB_PASSWORD: '' });
    expect(config.WORKER_CONCURRENCY).toBe(8);
    expect(config.DB_PASSWORD).toBe('');
  });

  it('names every wrong variable and hides secrets', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig(ApiConfig, { DB_PORT: 'abc', REDIS_URL: 'localhost', TRACKING_SECRET: 'tiny', QUEUE_PREFIX: 'a:b' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = error!.problems.map((p) => p.split('=')[0]).sort();
    expect(names).toEqual(['DB_PORT', 'QUEUE_PREFIX', 'REDIS_URL', 'TRACKING_SECRET']);
    expect(error!.message).not.toContain('tiny');
  });

  it('checks the parsed settings by parsing them, and says what they should look like', () => {
    expect(loadConfig(WorkerConfig, { REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2:6379' }).REDIS_CLUSTER_NODES).toBe('10.0.0.1:6379,10.0.0.2:6379');
    expect(() => loadConfig(WorkerConfig, { REDIS_CLUSTER_NODES: '10.0.0.1:99999' })).toThrow(/REDIS_CLUSTER_NODES must be a comma-separated list of host:port/);
    expect(() => loadConfig(ApiConfig, { SLA_OVERRIDES: '[1]' })).toThrow(/SLA_OVERRIDES must be a JSON object like/);
  });
});
