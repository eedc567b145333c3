// `POST /api/chat/stream`: one assistant turn as Server-Sent Events.
//
// EventSource cannot POST or send a bearer token, so the request goes through the same
// typed client as every other call (`api.POST(..., { parseAs: 'stream' })`): its fetch adds
// the token, refreshes it once (single flight, all tabs) on 401 and retries, waits out one
// 429 — all before the stream starts, since the server refuses bad input, an unknown
// session or a spent token with a plain JSON error. The body is then parsed by
// `eventsource-parser` (frames split across chunks, CRLF, comments, multi-line data).
import { createParser } from 'eventsource-parser';
import { api } from './client';
import { ApiError } from './errors';
import type { components } from './schema';
import { parseFrame, type StreamEvent } from '../screens/assistant/conversation';

type ChatReply = components['schemas']['ChatReply'];
type ErrorBody = components['schemas']['ErrorBody'];

/** How long to wait for the end of the stream once `done` arrived. */
const DRAIN_MS = 2000;
const sleep = (ms: number) => new Promise<null>((r) => setTimeout(() => r(null), ms));

/** The HTTP status an in-stream error stands for (the stream itself was a 200). */
function statusOf(body: ErrorBody): number {
  switch (body.code) {
    case 'assistant_provider_failed':
      return 502;
    case 'unavailable':
      return 503;
    case 'rate_limited':
      return 429;
    default:
      return 500;
  }
}

/**
 * Send `message` and stream the answer: `onEvent` sees every `tool` and `token` event (and
 * the final `done`); resolves with the final reply, or throws an `ApiError` (the request
 * was refused, the stream carried an `error` event, or it ended without `done`).
 */
export async function streamChat(
  request: { message: string; session_id?: string | null },
  onEvent: (ev: StreamEvent) => void,
  signal?: AbortSignal,
): Promise<ChatReply> {
  let result;
  try {
    result = await api.POST('/api/chat/stream', {
      body: request,
      parseAs: 'stream',
      headers: { Accept: 'text/event-stream' },
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw ApiError.network(e);
  }
  const { data, error, response } = result;
  if (!response.ok || error !== undefined || !data) {
    throw ApiError.fromResponse(response.status, error, response.headers);
  }

  let final: ChatReply | null = null;
  let failure: ApiError | null = null;
  let broken: unknown = null;
  const parser = createParser({
    onEvent(message) {
      if (final || failure || broken) return;
      let ev: StreamEvent | null;
      try {
        ev = parseFrame(message);
      } catch (e) {
        broken = e;
        return;
      }
      if (!ev) return;
      if (ev.type === 'error') {
        failure = ApiError.fromResponse(statusOf(ev.body), ev.body);
        return;
      }
      if (ev.type === 'done') final = ev.reply;
      onEvent(ev);
    },
  });

  const reader = (data as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array> | null;
      try {
        // After `done` the server ends the stream: read to its end (so the response
        // completes normally), but never wait long for it.
        chunk = final ? await Promise.race([reader.read(), sleep(DRAIN_MS)]) : await reader.read();
      } catch (e) {
        if (final) break;
        if (signal?.aborted) throw e;
        throw ApiError.network(e);
      }
      if (!chunk) break;
      if (chunk.done) {
        parser.feed(decoder.decode());
        parser.reset({ consume: true });
        break;
      }
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (failure || broken) break;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }

  if (failure) throw failure;
  if (final) return final;
  if (broken) throw new ApiError({ status: 502, code: 'internal', message: String(broken) });
  // The connection closed before `done`: the answer may or may not have been stored.
  throw ApiError.network(new Error('the answer stream ended early'));
}
