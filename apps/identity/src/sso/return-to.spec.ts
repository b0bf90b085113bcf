import { allowedReturnTo, withCode } from './return-to.js';

const origins = ['https://app.example.com', 'http://localhost:5173'];
const appUrl = 'https://console.tenantry.test/welcome';

describe('allowedReturnTo', () => {
  it.each([
    'https://app.example.com/after?x=1',
    'http://localhost:5173/',
    'https://console.tenantry.test/anywhere',
  ])('allows %s', (url) => {
    expect(allowedReturnTo(url, origins, appUrl)?.toString()).toBe(new URL(url).toString());
  });

  it.each([
    'https://app.example.com.evil.test/',
    'https://app.example.com@evil.test/',
    'https://user:pw@app.example.com/',
    'http://app.example.com/',
    'https://app.example.com:8443/',
    '//evil.test/',
    '/relative',
    'javascript:alert(1)',
    'data:text/html,hi',
    'not a url',
  ])('refuses %s', (url) => {
    expect(allowedReturnTo(url, origins, appUrl)).toBeNull();
  });
});

describe('withCode', () => {
  it('adds the code to the query, keeping what was there', () => {
    expect(withCode(new URL('https://app.example.com/after?x=1#top'), 'abc')).toBe(
      'https://app.example.com/after?x=1&code=abc#top',
    );
  });
});
