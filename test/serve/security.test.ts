// The server's closed defaults: same-origin only, JSON bodies only, Host checked against the bound
// address (DNS rebinding), slow bodies timed out, Retry-After on 429, `Bearer` in any case.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { RunningServer } from '../../src/serve/index.ts';
import { exposureWarning, hostAllowed } from '../../src/serve/http/guard.ts';
import { startTinyServer } from './tiny-server.ts';

let s: RunningServer;
before(async () => {
  s = await startTinyServer({ template: 'v3' });
});

const chatBody = JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 });

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so Host and Origin can be set as a browser or an attacker would. */
function send(server: RunningServer, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

test('cross-origin calls are refused unless the origin is allowed; same-origin ones get no CORS headers', async () => {
  const own = `http://127.0.0.1:${s.port}`;
  const same = await send(s, 'POST', '/v1/chat/completions', { ...json, origin: own }, chatBody);
  assert.equal(same.status, 200, same.body);
  assert.equal(same.headers['access-control-allow-origin'], undefined);
  const none = await send(s, 'GET', '/v1/models', {});
  assert.equal(none.status, 200);
  assert.equal(none.headers['access-control-allow-origin'], undefined, 'no Access-Control-Allow-Origin: * by default');
  const foreign = await send(s, 'POST', '/v1/chat/completions', { ...json, origin: 'https://evil.example' }, chatBody);
  assert.equal(foreign.status, 403);
  assert.equal(JSON.parse(foreign.body).error.code, 'origin_not_allowed');
  const preflight = await send(s, 'OPTIONS', '/v1/chat/completions', {
    origin: 'https://evil.example',
    'access-control-request-method': 'POST',
  });
  assert.equal(preflight.status, 403);

  const open = await startTinyServer({ template: 'v3', corsOrigins: ['https://app.example'] });
  const ok = await send(open, 'OPTIONS', '/v1/chat/completions', {
    origin: 'https://app.example',
    'access-control-request-method': 'POST',
  });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
  assert.match(String(ok.headers['access-control-allow-headers']), /authorization/);
  const call = await send(open, 'POST', '/v1/chat/completions', { ...json, origin: 'https://app.example' }, chatBody);
  assert.equal(call.status, 200);
  assert.equal(call.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal((await send(open, 'POST', '/v1/chat/completions', { ...json, origin: 'https://other.example' }, chatBody)).status, 403);
});

test('bodies must be application/json: text/plain and form posts (which skip CORS preflights) are 415', async () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await send(s, 'POST', '/v1/chat/completions', { 'content-type': type }, chatBody);
    assert.equal(r.status, 415, type);
    assert.equal(JSON.parse(r.body).error.code, 'unsupported_media_type');
  }
  assert.equal((await send(s, 'POST', '/v1/chat/completions', {}, chatBody)).status, 415);
  assert.equal(
    (await send(s, 'POST', '/v1/chat/completions', { 'content-type': 'application/json; charset=utf-8' }, chatBody)).status,
    200,
  );
});

test('a Host that is not the bound address is refused (DNS rebinding), unless allowed', async () => {
  const evil = await send(s, 'GET', '/v1/models', { host: `rebind.evil.example:${s.port}` });
  assert.equal(evil.status, 403);
  assert.equal(JSON.parse(evil.body).error.code, 'host_not_allowed');
  assert.equal((await send(s, 'GET', '/', { host: `rebind.evil.example:${s.port}` })).status, 403, 'the web chat too');
  assert.equal((await send(s, 'GET', '/v1/models', { host: `localhost:${s.port}` })).status, 200);
  assert.equal((await send(s, 'GET', '/v1/models', { host: `127.0.0.1:${s.port}` })).status, 200);
  const proxied = await startTinyServer({ template: 'v3', allowedHosts: ['chat.example.org'] });
  assert.equal((await send(proxied, 'GET', '/v1/models', { host: 'chat.example.org' })).status, 200);
  // Bound to every interface: any IP address (not re-pointable) and localhost, still no foreign names.
  const all = { host: '0.0.0.0', allowedHosts: [] };
  assert.ok(hostAllowed('192.168.1.20:8000', all));
  assert.ok(hostAllowed('[fe80::1]:8000', all));
  assert.ok(hostAllowed('localhost:8000', all));
  assert.equal(hostAllowed('attacker.example:8000', all), false);
  assert.ok(hostAllowed('attacker.example', { host: '127.0.0.1', allowedHosts: ['*'] }));
  assert.equal(hostAllowed('10.0.0.5:8000', { host: '127.0.0.1', allowedHosts: [] }), false);
});

test('a request body that trickles in is answered 408 once the body timeout passes', async () => {
  const slow = await startTinyServer({ template: 'v3', bodyTimeoutMs: 300 });
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect(slow.port, '127.0.0.1', () => {
      sock.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
      );
    });
    let text = '';
    sock.on('data', (d: Buffer) => (text += d));
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 408 /);
  assert.match(reply, /request_timeout/);
});

test('the API key scheme is case-insensitive; 429s carry Retry-After; binding beyond loopback without a key warns', async () => {
  const locked = await startTinyServer({ template: 'v3', apiKey: 'sekret' });
  for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
    assert.equal((await send(locked, 'GET', '/v1/models', { authorization: `${scheme} sekret` })).status, 200, scheme);
  }
  assert.equal((await send(locked, 'GET', '/v1/models', { authorization: 'Bearer sekret2' })).status, 401);
  assert.equal((await send(locked, 'GET', '/v1/models', { authorization: 'Basic sekret' })).status, 401);

  assert.equal(exposureWarning('127.0.0.1', undefined), null);
  assert.equal(exposureWarning('localhost', undefined), null);
  assert.equal(exposureWarning('0.0.0.0', 'key'), null);
  assert.match(exposureWarning('0.0.0.0', undefined)!, /without --api-key/);
});
