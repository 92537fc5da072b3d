import { describe, expect, it } from 'vitest';
import { configFromArgs } from './config.ts';

describe('issue 10 items 14 and 15: --public-url and --metrics-token', () => {
  it('takes the public URL from the flag or GATEHOUSE_PUBLIC_URL, without a trailing slash', () => {
    expect(configFromArgs({ 'public-url': 'https://gatehouse.example.com/' }, {}).publicUrl).toBe('https://gatehouse.example.com');
    expect(configFromArgs({}, { GATEHOUSE_PUBLIC_URL: 'https://example.com/gatehouse/' }).publicUrl).toBe('https://example.com/gatehouse');
    expect(configFromArgs({}, {}).publicUrl).toBeUndefined();
  });

  it('refuses a public URL that is not a plain http(s) URL', () => {
    for (const bad of ['gatehouse.example.com', 'ftp://example.com', 'https://example.com/?x=1', 'https://user:pw@example.com', 'https://example.com/#a']) {
      expect(() => configFromArgs({ 'public-url': bad }, {}), bad).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_CONFIG' }));
    }
  });

  it('leaves metrics off by default and refuses a short metrics token', () => {
    expect(configFromArgs({}, {}).metricsToken).toBeUndefined();
    expect(configFromArgs({}, { GATEHOUSE_METRICS_TOKEN: 'a-long-enough-metrics-token' }).metricsToken).toBe('a-long-enough-metrics-token');
    expect(() => configFromArgs({ 'metrics-token': 'short' }, {})).toThrow(expect.objectContaining({ code: 'GATEHOUSE_ERR_CONFIG' }));
  });
});
