import { logFormatOf, loggerParams } from './logging';

describe('log format', () => {
  const installed = () => true;
  const missing = () => false;

  it('is pretty in development by default, JSON in test and production', () => {
    expect(logFormatOf({ LOG_FORMAT: 'auto', NODE_ENV: 'development' }, installed)).toBe('pretty');
    expect(logFormatOf({ LOG_FORMAT: 'auto', NODE_ENV: 'test' }, installed)).toBe('json');
    expect(logFormatOf({ LOG_FORMAT: 'auto', NODE_ENV: 'production' }, installed)).toBe('json');
  });

  it('follows LOG_FORMAT when set', () => {
    expect(logFormatOf({ LOG_FORMAT: 'json', NODE_ENV: 'development' }, installed)).toBe('json');
    expect(logFormatOf({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, installed)).toBe('pretty');
  });

  it('falls back to JSON without pino-pretty by default, and refuses to start when pretty was asked for', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(logFormatOf({ LOG_FORMAT: 'auto', NODE_ENV: 'development' }, missing)).toBe('json');
      expect(write).toHaveBeenCalledWith(expect.stringContaining('pino-pretty'));
    } finally {
      write.mockRestore();
    }
    expect(() => logFormatOf({ LOG_FORMAT: 'pretty', NODE_ENV: 'development' }, missing)).toThrow(/LOG_FORMAT=pretty needs the pino-pretty package/);
  });

  it('keeps JSON records as they were, and prints one line per request when pretty', () => {
    const json = loggerParams('info', 'json').pinoHttp as Record<string, unknown>;
    expect(json.transport).toBeUndefined();
    expect(json.customSuccessMessage).toBeUndefined();
    const pretty = loggerParams('info', 'pretty').pinoHttp as Record<string, any>;
    expect(pretty.transport).toMatchObject({ target: 'pino-pretty', options: { colorize: true, singleLine: true } });
    const line = pretty.customSuccessMessage({ method: 'GET', url: '/t/impression?d=secret-token&x=1' }, { statusCode: 204 }, 3.4);
    expect(line).toBe('GET /t/impression?d=…&x=1 204 3ms');
  });
});
