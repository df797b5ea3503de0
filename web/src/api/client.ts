/**
 * Calls to `/api`. The browser's HttpOnly session cookie authenticates them (same
 * origin), and every request carries `X-Forankra-Request: 1`, which the server requires
 * of cookie-authenticated writes: a form or script on another site cannot send it. An
 * error answer becomes an `ApiError` with the server's `{error, message}`. A 401 on an
 * authenticated call means the session is over: `onUnauthorized` sends the user to log in.
 */
import { clearSession } from '../auth/session';
import type {
  AdminLogEntry,
  AdminUser,
  AnchorInput,
  Attribution,
  AttributionClients,
  AuditEntry,
  AuditVerification,
  BulkDecision,
  CreateDocumentRequest,
  CreateThreadRequest,
  DocumentInfo,
  EditUserRequest,
  ErrorBody,
  ExportFormat,
  ExtensionDecisionRequest,
  Following,
  ImportDocumentResponse,
  Inbox,
  LoginResponse,
  LogoutResponse,
  Me,
  Member,
  Mentionable,
  MentionRequest,
  NewUserRequest,
  NotificationChannel,
  NotificationKind,
  NotificationSetting,
  Organisation,
  OrgMapping,
  Outcome,
  Preferences,
  Provider,
  RemissAnswer,
  RemissExtensions,
  RemissMatrix,
  RemissRound,
  Role,
  SignInMethods,
  Thread,
  TicketResponse,
  UnreadCount,
  UpdateRemissRequest,
  Version,
  VersionDiff,
  Webhook,
  WebhookDelivery,
  WebhookEvent,
} from './types';

export class ApiError extends Error {
  /**
   * `details` holds the body's other fields, for the codes that carry some (e.g. the
   * quotes of `anchor_changed`).
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thrown when the server cannot be reached at all. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'NetworkError';
  }
}

let unauthorizedHandler: () => void = () => {};

/** Called once at start: what to do when the server says the token is no good. */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Not signed in yet (login): a 401 is an answer, not the end of a session. */
  anonymous?: boolean;
}

async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'X-Forankra-Request': '1' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new NetworkError(error);
  }
  if (!response.ok) {
    const error = await readError(response);
    if (response.status === 401 && !options.anonymous) {
      clearSession();
      unauthorizedHandler();
    }
    throw error;
  }
  return response;
}

async function readError(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as Partial<ErrorBody> & Record<string, unknown>;
    return new ApiError(
      response.status,
      body.error ?? 'error',
      body.message ?? `${response.status} ${response.statusText}`,
      body,
    );
  } catch {
    return new ApiError(response.status, 'error', `${response.status} ${response.statusText}`);
  }
}

async function json<T>(path: string, options?: RequestOptions): Promise<T> {
  const response = await send(path, options);
  return (await response.json()) as T;
}

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

const docPath = (id: string) => `/api/documents/${encodeURIComponent(id)}`;

/** A file from the server: its bytes and the name it suggests (Content-Disposition). */
export interface Download {
  blob: Blob;
  filename: string | null;
}

function suggestedName(disposition: string | null): string | null {
  if (!disposition) return null;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ?? null;
}

async function download(path: string): Promise<Download> {
  const response = await send(path);
  return {
    blob: await response.blob(),
    filename: suggestedName(response.headers.get('Content-Disposition')),
  };
}

export const api = {
  notifications: () => json<Inbox>('/api/notifications'),
  markNotificationRead: (id: string) =>
    json<UnreadCount>(`/api/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' }),
  markAllNotificationsRead: () =>
    json<UnreadCount>('/api/notifications/read-all', { method: 'POST' }),
  notificationSettings: () => json<NotificationSetting[]>('/api/notifications/settings'),
  preferences: () => json<Preferences>('/api/me/preferences'),
  setPreferences: (change: Partial<Preferences>) =>
    json<Preferences>('/api/me/preferences', { method: 'PUT', body: change }),
  setNotificationChannel: (kind: NotificationKind, channel: NotificationChannel) =>
    json<NotificationSetting>(`/api/notifications/settings/${encodeURIComponent(kind)}`, {
      method: 'PUT',
      body: { channel },
    }),
  login: (username: string, password: string) =>
    json<LoginResponse>('/api/login', {
      method: 'POST',
      body: { username, password },
      anonymous: true,
    }),
  me: () => json<Me>('/api/me'),
  /** Who the session cookie belongs to, or null when there is none (no redirect to login). */
  meIfSignedIn: async (): Promise<Me | null> => {
    try {
      return await json<Me>('/api/me', { anonymous: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  signInMethods: () => json<SignInMethods>('/api/auth/methods', { anonymous: true }),
  logout: () => json<LogoutResponse>('/api/logout', { method: 'POST', anonymous: true }),
  wsTicket: async () => (await json<TicketResponse>('/api/ws-ticket', { method: 'POST' })).ticket,
  documents: () => json<DocumentInfo[]>('/api/documents'),
  document: (id: string) => json<DocumentInfo>(docPath(id)),
  createDocument: (request: CreateDocumentRequest) =>
    json<DocumentInfo>('/api/documents', { method: 'POST', body: request }),
  /** A new document from a Word file (the raw .docx as the body). */
  importWord: async (file: Blob, title?: string): Promise<ImportDocumentResponse> => {
    const query = title ? `?title=${encodeURIComponent(title)}` : '';
    let response: Response;
    try {
      response = await fetch(`/api/documents/import${query}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-Forankra-Request': '1', 'Content-Type': DOCX_TYPE },
        body: file,
      });
    } catch (error) {
      throw new NetworkError(error);
    }
    if (!response.ok) throw await readError(response);
    return (await response.json()) as ImportDocumentResponse;
  },
  members: (id: string) => json<Member[]>(`${docPath(id)}/members`),
  organisations: () => json<Organisation[]>('/api/organisations'),
  setOrgRole: async (id: string, orgId: string, role: Role) => {
    await send(`${docPath(id)}/members/${encodeURIComponent(orgId)}`, {
      method: 'PUT',
      body: { role },
    });
  },
  removeOrg: async (id: string, orgId: string) => {
    await send(`${docPath(id)}/members/${encodeURIComponent(orgId)}`, { method: 'DELETE' });
  },
  setUserRole: async (id: string, userId: string, role: Role) => {
    await send(`${docPath(id)}/user-members/${encodeURIComponent(userId)}`, {
      method: 'PUT',
      body: { role },
    });
  },
  removeUser: async (id: string, userId: string) => {
    await send(`${docPath(id)}/user-members/${encodeURIComponent(userId)}`, {
      method: 'DELETE',
    });
  },
  /** The document as Markdown, HTML (a fragment) or plain text. */
  exportText: async (id: string, format: ExportFormat) => {
    const response = await send(`${docPath(id)}/${format}`);
    return response.text();
  },
  threads: (id: string) => json<Thread[]>(`${docPath(id)}/threads`),
  createThread: (id: string, request: CreateThreadRequest) =>
    json<Thread>(`${docPath(id)}/threads`, { method: 'POST', body: request }),
  reply: (id: string, threadId: string, body: string, mentions: MentionRequest[] = []) =>
    json<Thread>(`${threadPath(id, threadId)}/comments`, {
      method: 'POST',
      body: mentions.length > 0 ? { body, mentions } : { body },
    }),
  editComment: (
    id: string,
    threadId: string,
    commentId: string,
    body: string,
    mentions: MentionRequest[] = [],
  ) =>
    json<Thread>(`${threadPath(id, threadId)}/comments/${encodeURIComponent(commentId)}`, {
      method: 'PATCH',
      body: { body, mentions },
    }),
  /** Whom a comment can @mention in this document, by a name prefix. */
  mentionable: (id: string, q: string) =>
    json<Mentionable[]>(`${docPath(id)}/mentionable?q=${encodeURIComponent(q)}`),
  following: (id: string) => json<Following>(`${docPath(id)}/following`),
  followDocument: (id: string, following: boolean) =>
    json<Following>(`${docPath(id)}/following`, { method: 'PUT', body: { following } }),
  followThread: (id: string, threadId: string, following: boolean) =>
    json<Following>(`${threadPath(id, threadId)}/following`, {
      method: 'PUT',
      body: { following },
    }),
  threadOpened: (id: string, threadId: string) =>
    json<Following>(`${threadPath(id, threadId)}/opened`, { method: 'POST' }),
  deleteComment: (id: string, threadId: string, commentId: string) =>
    json<Thread>(`${threadPath(id, threadId)}/comments/${encodeURIComponent(commentId)}`, {
      method: 'DELETE',
    }),
  resolve: (id: string, threadId: string, outcome: Outcome, motivation: string) =>
    json<Thread>(`${threadPath(id, threadId)}/resolve`, {
      method: 'POST',
      body: { outcome, motivation },
    }),
  reopen: (id: string, threadId: string) =>
    json<Thread>(`${threadPath(id, threadId)}/reopen`, { method: 'POST' }),
  /** Accepts one organisation's open suggestions, or all, in document order (owners). */
  acceptSuggestions: (id: string, body: { org: string } | { all: true }) =>
    json<BulkDecision>(`${docPath(id)}/suggestions/accept`, { method: 'POST', body }),
  decideProposal: (
    id: string,
    threadId: string,
    decision: 'accept' | 'reject',
    motivation: string,
    /** Accept only: the current text the owner confirmed (see `AnchorConflict`). */
    expectedQuote?: string,
  ) =>
    json<Thread>(`${threadPath(id, threadId)}/proposal/${decision}`, {
      method: 'POST',
      body: expectedQuote === undefined ? { motivation } : { motivation, expectedQuote },
    }),
  reanchor: (id: string, threadId: string, anchor: AnchorInput) =>
    json<Thread>(`${threadPath(id, threadId)}/anchor`, { method: 'PUT', body: { anchor } }),

  remiss: (id: string) => json<RemissRound>(`${docPath(id)}/remiss`),
  remissMatrix: (id: string) => json<RemissMatrix>(`${docPath(id)}/remiss/matrix`),
  updateRemiss: (id: string, request: UpdateRemissRequest) =>
    json<RemissRound>(`${docPath(id)}/remiss`, { method: 'PUT', body: request }),
  answerRemiss: (id: string, answer: RemissAnswer) =>
    json<RemissRound>(`${docPath(id)}/remiss/response`, { method: 'POST', body: answer }),
  remissExtensions: (id: string) => json<RemissExtensions>(`${docPath(id)}/remiss/extensions`),
  requestExtension: (id: string, date: string, reason: string) =>
    json<RemissExtensions>(`${docPath(id)}/remiss/extensions`, {
      method: 'POST',
      body: { date, reason },
    }),
  decideExtension: (id: string, decision: ExtensionDecisionRequest) =>
    json<RemissExtensions>(`${docPath(id)}/remiss/extensions/decisions`, {
      method: 'POST',
      body: decision,
    }),
  versions: (id: string) => json<Version[]>(`${docPath(id)}/versions`),
  saveVersion: (id: string, name: string) =>
    json<Version>(`${docPath(id)}/versions`, { method: 'POST', body: { name } }),
  versionMarkdown: async (id: string, versionId: string) => {
    const response = await send(
      `${docPath(id)}/versions/${encodeURIComponent(versionId)}/markdown`,
    );
    return response.text();
  },
  diff: (id: string, from: string, to: string) =>
    json<VersionDiff>(
      `${docPath(id)}/versions/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    ),
  /** A named version as a file (`docx`, `html`, `markdown`). */
  versionExport: (id: string, versionId: string, format: string) =>
    download(
      `${docPath(id)}/versions/${encodeURIComponent(versionId)}/export?format=${encodeURIComponent(format)}`,
    ),
  /** A report or export as a file (`report`, `compilation`, `audit`). */
  download: (id: string, what: 'report' | 'compilation' | 'audit', format: string) =>
    download(`${docPath(id)}/${what}?format=${encodeURIComponent(format)}`),
  audit: (id: string) => json<AuditEntry[]>(`${docPath(id)}/audit`),
  /** Who wrote the text standing now, per organisation and per paragraph. */
  attribution: (id: string) => json<Attribution>(`${docPath(id)}/attribution`),
  /** A page of the document's Yjs client ids and the organisations writing under them. */
  attributionClients: (id: string, after?: number) =>
    json<AttributionClients>(
      `${docPath(id)}/attribution/clients${after === undefined ? '' : `?after=${after}`}`,
    ),
  verifyAudit: (id: string) => json<AuditVerification>(`${docPath(id)}/audit/verify`),
  webhooks: (id: string) => json<Webhook[]>(`${docPath(id)}/webhooks`),
  addWebhook: (id: string, url: string, events: WebhookEvent[]) =>
    json<Webhook>(`${docPath(id)}/webhooks`, { method: 'POST', body: { url, events } }),
  removeWebhook: async (id: string, webhookId: string) => {
    await send(`${docPath(id)}/webhooks/${encodeURIComponent(webhookId)}`, { method: 'DELETE' });
  },
  deliveries: (id: string, webhookId: string) =>
    json<WebhookDelivery[]>(`${docPath(id)}/webhooks/${encodeURIComponent(webhookId)}/deliveries`),
};

const adminUserPath = (id: string) => `/api/admin/users/${encodeURIComponent(id)}`;

/** The administration page's calls (administrators only; 403 for anyone else). */
export const adminApi = {
  organisations: () => json<Organisation[]>('/api/admin/organisations'),
  addOrganisation: (id: string, name: string) =>
    json<Organisation>('/api/admin/organisations', { method: 'POST', body: { id, name } }),
  renameOrganisation: (id: string, name: string) =>
    json<Organisation>(`/api/admin/organisations/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: { name },
    }),
  users: () => json<AdminUser[]>('/api/admin/users'),
  addUser: (request: NewUserRequest) =>
    json<AdminUser>('/api/admin/users', { method: 'POST', body: request }),
  editUser: (id: string, request: EditUserRequest) =>
    json<AdminUser>(adminUserPath(id), { method: 'PATCH', body: request }),
  setActive: (id: string, active: boolean) =>
    json<AdminUser>(`${adminUserPath(id)}/active`, { method: 'PUT', body: { active } }),
  setAdmin: (id: string, admin: boolean) =>
    json<AdminUser>(`${adminUserPath(id)}/admin`, { method: 'PUT', body: { admin } }),
  setPassword: (id: string, password: string) =>
    json<AdminUser>(`${adminUserPath(id)}/password`, { method: 'PUT', body: { password } }),
  providers: () => json<Provider[]>('/api/admin/providers'),
  mappings: () => json<OrgMapping[]>('/api/admin/mappings'),
  setMapping: (provider: string, claimValue: string, org: string) =>
    json<OrgMapping[]>('/api/admin/mappings', {
      method: 'PUT',
      body: { provider, claimValue, org },
    }),
  removeMapping: (provider: string, claimValue: string) =>
    json<OrgMapping[]>(
      `/api/admin/mappings?provider=${encodeURIComponent(provider)}&claimValue=${encodeURIComponent(claimValue)}`,
      { method: 'DELETE' },
    ),
  log: () => json<AdminLogEntry[]>('/api/admin/log'),
};

/**
 * The caller changes their own password; the answer renews their sign-in cookie. A
 * wrong current password is a 401 here, an answer rather than the end of the session.
 */
export const changeOwnPassword = (currentPassword: string, newPassword: string) =>
  json<LoginResponse>('/api/me/password', {
    method: 'PUT',
    body: { currentPassword, newPassword },
    anonymous: true,
  });

const threadPath = (id: string, threadId: string) =>
  `${docPath(id)}/threads/${encodeURIComponent(threadId)}`;
