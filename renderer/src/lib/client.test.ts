import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StudioApi } from '../../../src-core/contract/api.ts';
import { CONNECTION_LOST, CONNECTION_NEVER_OPENED, WsClient, backoffDelay, bridgeClient, wsUrl, type SocketLike } from './client.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({} as CloseEvent);
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
  lastSent(): { id: number; method: string; params: unknown } {
    return JSON.parse(this.sent[this.sent.length - 1]);
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const client = new WsClient('ws://host/ws', {
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { client, sockets, timers };
}

test('the WebSocket address follows the page: scheme, host, token', () => {
  assert.equal(wsUrl({ protocol: 'http:', host: '127.0.0.1:7860', search: '' }), 'ws://127.0.0.1:7860/ws');
  assert.equal(wsUrl({ protocol: 'https:', host: 'box.lan', search: '?token=a b&x=1' }), 'wss://box.lan/ws?token=a%20b');
  assert.equal(wsUrl({ protocol: 'http:', host: 'h', search: '?token=' }), 'ws://h/ws');
});

test('backoff grows and is capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffDelay), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test('calls made while connecting are sent on open and answered by id', async () => {
  const { client, sockets } = setup();
  const states: string[] = [];
  client.onConnection((s) => states.push(s));
  const answer = client.call('prompt.count', { prompt: 'a cat' });
  const socket = sockets[0];
  assert.equal(socket.sent.length, 0);
  socket.open();
  assert.deepEqual(states, ['open']);
  const sent = socket.lastSent();
  assert.equal(sent.method, 'prompt.count');
  assert.deepEqual(sent.params, { prompt: 'a cat' });
  socket.receive({ id: sent.id, result: { tokens: 2, max: 75 } });
  assert.deepEqual(await answer, { tokens: 2, max: 75 });

  const failing = client.call('gallery.delete', { id: 'x' });
  socket.receive({ id: socket.lastSent().id, error: 'no image "x" in the gallery' });
  await assert.rejects(failing, /no image "x" in the gallery/);
});

test('events reach their listeners until unsubscribed', () => {
  const { client, sockets } = setup();
  sockets[0].open();
  const seen: unknown[] = [];
  const off = client.on('engine.status', (d) => seen.push(d.state));
  sockets[0].receive({ event: 'engine.status', data: { state: 'crashed' } });
  sockets[0].receive({ event: 'job.done', data: {} });
  off();
  sockets[0].receive({ event: 'engine.status', data: { state: 'ready' } });
  assert.deepEqual(seen, ['crashed']);
});

test('a dropped connection rejects pending calls clearly and reconnects with backoff', async () => {
  const { client, sockets, timers } = setup();
  sockets[0].open();
  const pending = client.call('app.info', {});
  const states: string[] = [];
  client.onConnection((s) => states.push(s));
  sockets[0].drop();
  await assert.rejects(pending, (e: Error) => e.message === CONNECTION_LOST);
  assert.deepEqual(states, ['reconnecting']);
  assert.equal(client.connection(), 'reconnecting');
  // between attempts calls fail at once instead of hanging
  await assert.rejects(client.call('app.info', {}), /connection to the engine was lost/);
  assert.equal(timers.length, 1);
  assert.equal(timers[0].ms, 500);
  timers[0].fn();
  assert.equal(sockets.length, 2);
  sockets[1].drop(); // the server is still down
  assert.equal(timers[1].ms, 1000);
  timers[1].fn();
  const queued = client.call('gallery.list', {});
  sockets[2].open();
  assert.deepEqual(states, ['reconnecting', 'open']);
  sockets[2].receive({ id: sockets[2].lastSent().id, result: [] });
  assert.deepEqual(await queued, []);
  sockets[2].drop();
  assert.equal(timers[2].ms, 500, 'backoff starts over after a successful connection');
});

test('a connection that never opened says how to reach the engine', async () => {
  const { client, sockets } = setup();
  const pending = client.call('app.info', {});
  sockets[0].drop();
  await assert.rejects(pending, (e: Error) => e.message === CONNECTION_NEVER_OPENED);
  assert.match(CONNECTION_NEVER_OPENED, /\?token=/);
  await assert.rejects(client.call('app.info', {}), (e: Error) => e.message === CONNECTION_NEVER_OPENED);
});

test('a message that is not JSON is ignored; close stops reconnecting', async () => {
  const { client, sockets, timers } = setup();
  sockets[0].open();
  sockets[0].onmessage?.({ data: 'not json' } as MessageEvent);
  const pending = client.call('app.info', {});
  client.close();
  await assert.rejects(pending, /closed/);
  assert.ok(sockets[0].closed);
  assert.equal(timers.length, 0);
});

test('the Electron bridge is used as it is', async () => {
  const calls: unknown[] = [];
  const bridge: StudioApi = {
    call: async (method, params) => {
      calls.push([method, params]);
      return { tokens: 1, max: 75 } as never;
    },
    on: () => () => {},
  };
  const client = bridgeClient(bridge);
  assert.equal(client.mode, 'bridge');
  assert.equal(client.connection(), 'open');
  assert.deepEqual(await client.call('prompt.count', { prompt: 'x' }), { tokens: 1, max: 75 });
  assert.deepEqual(calls, [['prompt.count', { prompt: 'x' }]]);
});
