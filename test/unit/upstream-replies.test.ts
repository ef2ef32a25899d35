import { readChatPayload, readReplyEnvelope, readStreamChunk } from '../../src/chat/replies';
import { MeReply } from '../../src/auth/replies';
import { readUpstreamReply } from '../../src/upstreams/replies';

const message = {
  id: 7,
  message_id: 3,
  conversation: 1,
  message: 'Hello',
  is_bot: false,
  message_type: 0,
  embedding_message_doc: null,
  messages: '[]',
  tokens: 4,
  created_at: '2026-12-06T07:00:00.000Z',
};

describe('reading upstream replies liberally', () => {
  it('accepts "messages": null (the reply that turned the messages API off) as an empty string', () => {
    const read = readChatPayload('chat_get_messages', { items: [{ ...message, messages: null }], total_count: 1 });
    expect(read).toEqual({ ok: true, value: { items: [{ ...message, messages: '' }], total_count: 1 } });
  });

  it('fills every optional null with the empty value of its type and drops unknown fields', () => {
    const read = readChatPayload('chat_get_message', {
      ...Object.fromEntries(Object.keys(message).map((k) => [k, null])),
      message_id: '3',
      conversation: '1',
      shiny_new_field: { a: 1 },
    });
    expect(read).toEqual({
      ok: true,
      value: {
        id: 0,
        message_id: 3,
        conversation: 1,
        message: '',
        is_bot: false,
        message_type: 0,
        embedding_message_doc: null,
        messages: '',
        tokens: 0,
        created_at: '',
      },
    });
  });

  it('counts a list without total_count as its length and a null delete reply as deleted', () => {
    expect(readChatPayload('chat_get_messages', { items: [message], total_count: null })).toMatchObject({
      value: { total_count: 1 },
    });
    expect(readChatPayload('chat_delete_message', null)).toEqual({ ok: true, value: { deleted: true } });
  });

  it('refuses a reply without an id the gateway routes by, naming the path', () => {
    const read = readChatPayload('chat_get_messages', { items: [message, { ...message, message_id: null }] });
    expect(read).toEqual({ ok: false, path: 'items.1.message_id', message: 'is required' });
    expect(readChatPayload('chat_get_message', { ...message, message_id: 'abc' })).toMatchObject({
      ok: false,
      path: 'message_id',
    });
    expect(readUpstreamReply(MeReply, { email: 'a@b.c' })).toMatchObject({ ok: false, path: 'sub' });
  });

  it('tells stream chunks apart by their event and reads digit-string ids in them', () => {
    expect(readStreamChunk({ event: 'userMessageId', data: { userMessageId: '12' }, extra: 1 })).toEqual({
      ok: true,
      value: { event: 'userMessageId', data: { userMessageId: 12 } },
    });
    expect(readStreamChunk({ event: 'message', data: { content: null } })).toEqual({
      ok: true,
      value: { event: 'message', data: { content: '' } },
    });
    expect(readStreamChunk({ event: 'nonsense', data: {} }).ok).toBe(false);
  });

  it('reads the envelope by request_id and status only; a digit-string sequence is a number', () => {
    expect(
      readReplyEnvelope({ request_id: 'r1', status: 'chunk', sequence: '2', message_id: null, operation: null, x: 1 }),
    ).toEqual({ request_id: 'r1', status: 'chunk', sequence: 2, payload: undefined, error: null });
    expect(readReplyEnvelope({ request_id: 'r1', status: 'done' })).toBeUndefined();
    expect(readReplyEnvelope({ status: 'success' })).toBeUndefined();
  });
});
