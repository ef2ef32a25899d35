import type { UserContext } from '../../src/auth/types';
import type { PayloadOf, ReplyOf } from '../../src/chat/operations';
import type { ChatDocument, Conversation, Message, Prompt } from '../../src/chat/schemas';
import { FakeChatError, fakeAnswer, fakeTokens, page, type AiTurn, type UserData } from './model';

/**
 * The chat service's data, in memory, per user (`user_context.sub`). Every resource has a
 * global id and a per-user number; only the number is accepted, inside the caller's own data.
 */
export class ChatFakeStore {
  private readonly users = new Map<string, UserData>();
  private globalId = 0;

  user(sub: string): UserData {
    let data = this.users.get(sub);
    if (!data) {
      data = {
        next: { conversation: 0, message: 0, prompt: 0, document: 0 },
        conversations: new Map(),
        messages: new Map(),
        prompts: new Map(),
        documents: new Map(),
        batches: new Map(),
      };
      this.users.set(sub, data);
    }
    return data;
  }

  private now = () => new Date().toISOString();

  private found<T>(map: Map<number, T>, id: number, what: string): T {
    const item = map.get(id);
    if (!item) throw new FakeChatError('not_found', `${what} ${id} not found`);
    return item;
  }

  // ---- conversations

  listConversations(u: UserContext, q: PayloadOf<'chat_get_conversations'>) {
    return page([...this.user(u.sub).conversations.values()], q);
  }

  getConversation(u: UserContext, id: number): Conversation {
    return this.found(this.user(u.sub).conversations, id, 'Conversation');
  }

  createConversation(u: UserContext, topic: string): Conversation {
    const data = this.user(u.sub);
    const conversation_id = ++data.next.conversation;
    const at = this.now();
    const c: Conversation = {
      id: ++this.globalId,
      conversation_id,
      topic,
      org_id: u.active_org_id,
      created_at: at,
      updated_at: at,
    };
    data.conversations.set(conversation_id, c);
    return c;
  }

  updateConversation(u: UserContext, id: number, topic: string): Conversation {
    const c = this.getConversation(u, id);
    c.topic = topic;
    c.updated_at = this.now();
    return c;
  }

  deleteConversation(u: UserContext, id: number): ReplyOf<'chat_delete_conversation'> {
    const data = this.user(u.sub);
    this.found(data.conversations, id, 'Conversation');
    data.conversations.delete(id);
    for (const [n, m] of data.messages) if (m.conversation === id) data.messages.delete(n);
    return { deleted: true };
  }

  deleteAllConversations(u: UserContext): ReplyOf<'chat_delete_all_conversations'> {
    const data = this.user(u.sub);
    const deleted_count = data.conversations.size;
    data.conversations.clear();
    data.messages.clear();
    return { deleted_count };
  }

  // ---- messages

  listMessages(u: UserContext, q: PayloadOf<'chat_get_messages'>) {
    const all = [...this.user(u.sub).messages.values()];
    if (q.conversation_id !== undefined) this.getConversation(u, q.conversation_id);
    return page(q.conversation_id === undefined ? all : all.filter((m) => m.conversation === q.conversation_id), q);
  }

  getMessage(u: UserContext, id: number): Message {
    return this.found(this.user(u.sub).messages, id, 'Message');
  }

  createMessage(u: UserContext, p: PayloadOf<'chat_create_message'>): Message {
    this.getConversation(u, p.conversation_id);
    if (p.embedding_message_doc != null) this.found(this.user(u.sub).documents, p.embedding_message_doc, 'Document');
    const data = this.user(u.sub);
    const message_id = ++data.next.message;
    const m: Message = {
      id: ++this.globalId,
      message_id,
      conversation: p.conversation_id,
      message: p.message,
      is_bot: p.is_bot ?? false,
      message_type: p.message_type ?? 0,
      embedding_message_doc: p.embedding_message_doc ?? null,
      messages: p.messages ?? '',
      tokens: p.tokens ?? 0,
      created_at: this.now(),
    };
    data.messages.set(message_id, m);
    return m;
  }

  updateMessage(u: UserContext, p: PayloadOf<'chat_update_message'>): Message {
    const m = this.getMessage(u, p.message_id);
    if (p.embedding_message_doc != null) this.found(this.user(u.sub).documents, p.embedding_message_doc, 'Document');
    if (p.message !== undefined) m.message = p.message;
    if (p.is_bot !== undefined) m.is_bot = p.is_bot;
    if (p.message_type !== undefined) m.message_type = p.message_type;
    if (p.messages !== undefined) m.messages = p.messages;
    if (p.tokens !== undefined) m.tokens = p.tokens;
    if (p.embedding_message_doc !== undefined) m.embedding_message_doc = p.embedding_message_doc;
    return m;
  }

  deleteMessage(u: UserContext, id: number): ReplyOf<'chat_delete_message'> {
    this.getMessage(u, id);
    this.user(u.sub).messages.delete(id);
    return { deleted: true };
  }

  // ---- AI answer and titles

  /** Records the question and the answer, as the chat service does before streaming it. */
  aiTurn(u: UserContext, p: PayloadOf<'chat_ai_conversation'>): AiTurn {
    const question = p.message[p.message.length - 1]!;
    const conversationId =
      p.conversation_id !== undefined
        ? this.getConversation(u, p.conversation_id).conversation_id
        : this.createConversation(u, question.content.slice(0, 60) || 'New conversation').conversation_id;
    const answer = fakeAnswer(question.content);
    const asked = this.createMessage(u, {
      conversation_id: conversationId,
      message: question.content,
      message_type: question.message_type,
      embedding_message_doc: question.embedding_message_doc,
    });
    const answered = this.createMessage(u, { conversation_id: conversationId, message: answer, is_bot: true });
    return {
      userMessageId: asked.message_id,
      botMessageId: answered.message_id,
      conversationId,
      tokens: fakeTokens(answer),
    };
  }

  generateTitle(u: UserContext, p: PayloadOf<'chat_generate_title'>): ReplyOf<'chat_generate_title'> {
    const c = this.getConversation(u, p.conversation_id);
    const first = [...this.user(u.sub).messages.values()].find((m) => m.conversation === c.conversation_id);
    const source = p.prompt ?? first?.message ?? c.topic;
    const title = source.split(/\s+/).filter(Boolean).slice(0, 6).join(' ') || 'Untitled';
    c.topic = title;
    c.updated_at = this.now();
    return { title, conversation_id: c.conversation_id };
  }

  // ---- imports

  upload(u: UserContext, p: PayloadOf<'chat_upload_conversations'>): ReplyOf<'chat_upload_conversations'> {
    const data = this.user(u.sub);
    const earlier = data.batches.get(p.batch_id);
    if (earlier) return { conversation_ids: earlier };
    const ids = p.imports.map((imp) => {
      const c = this.createConversation(u, imp.conversation_topic);
      for (const m of imp.messages) {
        this.createMessage(u, {
          conversation_id: c.conversation_id,
          message: m.content,
          is_bot: m.role === 'assistant',
        });
      }
      return c.conversation_id;
    });
    data.batches.set(p.batch_id, ids);
    return { conversation_ids: ids };
  }

  // ---- prompts

  listPrompts(u: UserContext, q: PayloadOf<'chat_get_prompts'>) {
    return page([...this.user(u.sub).prompts.values()], q);
  }

  getPrompt(u: UserContext, id: number): Prompt {
    return this.found(this.user(u.sub).prompts, id, 'Prompt');
  }

  createPrompt(u: UserContext, p: PayloadOf<'chat_create_prompt'>): Prompt {
    const data = this.user(u.sub);
    const prompt_id = ++data.next.prompt;
    const prompt: Prompt = {
      id: ++this.globalId,
      prompt_id,
      title: p.title,
      content: p.content,
      created_at: this.now(),
    };
    data.prompts.set(prompt_id, prompt);
    return prompt;
  }

  updatePrompt(u: UserContext, p: PayloadOf<'chat_update_prompt'>): Prompt {
    const prompt = this.getPrompt(u, p.prompt_id);
    if (p.title !== undefined) prompt.title = p.title;
    if (p.content !== undefined) prompt.content = p.content;
    return prompt;
  }

  deletePrompt(u: UserContext, id: number): ReplyOf<'chat_delete_prompt'> {
    this.getPrompt(u, id);
    this.user(u.sub).prompts.delete(id);
    return { deleted: true };
  }

  deleteAllPrompts(u: UserContext): ReplyOf<'chat_delete_all_prompts'> {
    const data = this.user(u.sub);
    const deleted_count = data.prompts.size;
    data.prompts.clear();
    return { deleted_count };
  }

  // ---- documents

  listDocuments(u: UserContext, q: PayloadOf<'chat_get_documents'>) {
    return page(
      [...this.user(u.sub).documents.values()].map(({ bytes: _bytes, ...d }) => d),
      q,
    );
  }

  getDocument(u: UserContext, id: number): ChatDocument {
    const { bytes: _bytes, ...d } = this.found(this.user(u.sub).documents, id, 'Document');
    return d;
  }

  /** Bytes of the stored document (for tests: proves the file arrived whole). */
  documentBytes(sub: string, id: number): number | undefined {
    return this.user(sub).documents.get(id)?.bytes;
  }

  uploadDocument(u: UserContext, p: PayloadOf<'chat_upload_document'>): ChatDocument {
    const data = this.user(u.sub);
    const document_id = ++data.next.document;
    const base64 = p.file.slice(p.file.indexOf(',') + 1);
    const doc = {
      id: ++this.globalId,
      document_id,
      title: p.title,
      org_id: u.active_org_id,
      created_at: this.now(),
      bytes: Buffer.from(base64, 'base64').length,
    };
    data.documents.set(document_id, doc);
    return this.getDocument(u, document_id);
  }

  updateDocument(u: UserContext, p: PayloadOf<'chat_update_document'>): ChatDocument {
    const doc = this.found(this.user(u.sub).documents, p.document_id, 'Document');
    doc.title = p.title;
    return this.getDocument(u, p.document_id);
  }

  deleteDocument(u: UserContext, id: number): ReplyOf<'chat_delete_document'> {
    this.getDocument(u, id);
    this.user(u.sub).documents.delete(id);
    return { deleted: true };
  }

  deleteAllDocuments(u: UserContext): ReplyOf<'chat_delete_all_documents'> {
    const data = this.user(u.sub);
    const deleted_count = data.documents.size;
    data.documents.clear();
    return { deleted_count };
  }
}
