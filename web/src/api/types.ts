/**
 * The server's DTOs as they arrive (serde `rename_all = "camelCase"`); mirrors the schemas
 * in `GET /api/openapi.json`. Times are epoch milliseconds.
 */

export type Role = 'owner' | 'editor' | 'commenter' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'commenter', 'editor', 'owner'];

/** `MeResponse`: the caller as the server sees them. */
export interface Me {
  id: string;
  name: string;
  /** Organisation id. */
  org: string;
  orgName: string;
}

/** `LoginResponse`. */
export interface LoginResponse {
  token: string;
  user: Me;
}

/** `DocumentResponse`: a document and the caller's role on it. */
export interface DocumentInfo {
  id: string;
  title: string;
  ownerOrg: string;
  ownerOrgName: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  role: Role;
  /** Set on archived documents (`GET /api/documents?archived=true`). */
  archivedAt?: number;
}

/** `CreateDocumentRequest`. */
export interface CreateDocumentRequest {
  title: string;
  markdown?: string;
}

export type PrincipalKind = 'org' | 'user';

/** `MemberResponse`: one organisation or user with a role on a document. */
export interface Member {
  kind: PrincipalKind;
  id: string;
  name: string;
  role: Role;
  grantedBy: string;
  grantedAt: number;
}

/** `OrganisationResponse`. */
export interface Organisation {
  id: string;
  name: string;
}

/** `ErrorResponse`: the body of every error. */
export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * The 409 answer to accepting a proposal whose anchored text is not the text it was
 * written against: `anchor_changed` (accept again with `expectedQuote` = `quote`) or
 * `anchor_orphaned` (nothing left to replace).
 */
export interface AnchorConflict extends ErrorBody {
  error: 'anchor_changed' | 'anchor_orphaned';
  quote: string;
  originalQuote: string;
}

export type ExportFormat = 'markdown' | 'html' | 'text';

/** May this role change the text? (The server drops updates from the others.) */
export function canEdit(role: Role): boolean {
  return role === 'owner' || role === 'editor';
}

/** A thread's position on the text of a change request or remark. */
export type Stance = 'tillstyrker' | 'avstyrker' | 'andringsforslag' | 'ingen_erinran';
export const STANCES: readonly Stance[] = [
  'tillstyrker',
  'avstyrker',
  'andringsforslag',
  'ingen_erinran',
];

/** How the owner dealt with a thread. */
export type Outcome = 'beaktad' | 'delvis_beaktad' | 'ej_beaktad' | 'noterad';
export const OUTCOMES: readonly Outcome[] = ['beaktad', 'delvis_beaktad', 'ej_beaktad', 'noterad'];

export type AnchorState = 'attached' | 'changed' | 'orphaned';
export type ThreadStatus = 'open' | 'resolved';

/** The two relative positions (standard base64 of `Y.encodeRelativePosition`). */
export interface AnchorInput {
  start: string;
  end: string;
}

/** `ThreadAnchor`: the anchor resolved against the current text. */
export interface ThreadAnchor extends AnchorInput {
  paragraph: number | null;
  quote: string;
  originalQuote: string;
  originalParagraph: number | null;
  state: AnchorState;
}

export interface ThreadComment {
  id: string;
  body: string;
  author: string;
  authorName: string;
  org: string;
  orgName: string;
  createdAt: number;
  editedAt: number | null;
  /** Withdrawn by its author: `body` is empty; owners and the author's organisation read it in its revisions. */
  deleted: boolean;
  deletedAt: number | null;
  deletedBy: string | null;
  /** Part of a resolved thread: it can no longer be edited or deleted (409 `thread_resolved`). */
  sealed: boolean;
}

/** `GET …/threads/{tid}/comments/{cid}/revisions`: one wording, oldest first (the first as received). */
export interface CommentRevision {
  body: string;
  editedAt: number;
  editedBy: string;
  editedByName: string;
}

export interface Resolution {
  outcome: Outcome;
  motivation: string;
  resolvedBy: string;
  resolvedByName: string;
  resolvedAt: number;
}

/** `ThreadResponse`. */
export interface Thread {
  id: string;
  document: string;
  status: ThreadStatus;
  stance: Stance | null;
  proposal: string | null;
  author: string;
  authorName: string;
  org: string;
  orgName: string;
  anchor: ThreadAnchor;
  resolution: Resolution | null;
  comments: ThreadComment[];
  /** Base64 state vector of the text the thread was opened on. */
  version?: string;
  /** The latest named version saved at or before the thread was opened (docs/REMISS.md). */
  namedVersion?: VersionRef | null;
  createdAt: number;
  updatedAt: number;
}

/** A named version, as threads refer to it. */
export interface VersionRef {
  id: string;
  name: string;
}

export interface CreateThreadRequest {
  anchor: AnchorInput;
  body: string;
  stance?: Stance;
  proposal?: string;
}

/** May this role open threads and reply? */
export function canComment(role: Role): boolean {
  return role !== 'viewer';
}

/** The phase of a remiss round (docs/REMISS.md). */
export type Phase = 'beredning' | 'remiss' | 'avslutad';
export const PHASES: readonly Phase[] = ['beredning', 'remiss', 'avslutad'];

/** An invitee's status, derived by the server from what its people did. */
export type InviteeStatus = 'invited' | 'opened' | 'commenting' | 'done' | 'declined';

export interface OrgRef {
  id: string;
  name: string;
}

/** One invited organisation of a round. */
export interface Invitee {
  org: OrgRef;
  role: Role;
  status: InviteeStatus;
  invitedAt: number;
  openedAt: number | null;
  firstCommentAt: number | null;
  doneAt: number | null;
  declinedAt: number | null;
  statement: string | null;
  threads: number;
  /** Every answer it submitted, oldest first. */
  submissions: Submission[];
}

/** One answer an invitee submitted, kept as received. */
export interface Submission {
  status: 'done' | 'declined';
  statement: string | null;
  submittedAt: number;
  submittedBy: string | null;
  submittedByName: string | null;
  /** Received after the svarsdatum; the compilation uses the last one in time. */
  late: boolean;
}

/** `GET /api/documents/{id}/remiss`. */
export interface RemissRound {
  diarienummer: string | null;
  phase: Phase;
  /** `YYYY-MM-DD`, inclusive, Europe/Stockholm. */
  deadline: string | null;
  deadlinePassed: boolean;
  acceptingThreads: boolean;
  invitees: Invitee[];
}

/** `PUT /api/documents/{id}/remiss`: any of the fields. */
export interface UpdateRemissRequest {
  diarienummer?: string | null;
  phase?: Phase;
  deadline?: string | null;
}

/** `POST /api/documents/{id}/remiss/response`. */
export interface RemissAnswer {
  status: 'done' | 'declined';
  statement?: string;
}

/** A saved, immutable named version. */
export interface Version {
  id: string;
  name: string;
  createdAt: number;
  createdBy: { id: string; name: string; org: string };
  paragraphs: number;
}

export type ParagraphChange = 'added' | 'removed' | 'changed' | 'unchanged';

export interface WordChange {
  op: 'equal' | 'insert' | 'delete';
  text: string;
}

export interface ParagraphDiff {
  change: ParagraphChange;
  before: string | null;
  after: string | null;
  words?: WordChange[] | null;
}

/** `GET …/versions/diff`. */
export interface VersionDiff {
  from: Version;
  to: Version | null;
  paragraphs: ParagraphDiff[];
}

/** One entry of the audit trail (owners). */
export interface AuditEntry {
  seq: number;
  at: number;
  action: string;
  actor: { id: string; name: string } | null;
  org: string | null;
  detail: unknown;
  prevHash: string;
  hash: string;
  /** HMAC under the audit key; null for entries from before keys. */
  mac: string | null;
}

/** What is wrong with the first bad entry or the head (docs/REMISS.md, "The audit trail"). */
export type AuditBreach =
  | 'out_of_sequence'
  | 'link_broken'
  | 'hash_mismatch'
  | 'mac_missing'
  | 'mac_mismatch'
  | 'truncated'
  | 'beyond_head'
  | 'head_mismatch'
  | 'head_forged'
  | 'head_missing';

/** `GET …/audit/verify`. */
export interface AuditVerification {
  valid: boolean;
  entries: number;
  firstBroken: number | null;
  reason: AuditBreach | null;
  /** Entries 1..=legacyUntil predate the audit key: hash-checked, not authenticated. */
  legacyUntil: number;
}

export type WebhookEvent =
  | 'thread.opened'
  | 'comment.added'
  | 'thread.resolved'
  | 'organisation.done';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'thread.opened',
  'comment.added',
  'thread.resolved',
  'organisation.done',
];

/** A registered webhook; `secret` only in the answer to its registration. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  createdBy?: string;
  createdAt: number;
  secret?: string;
}

/** One try at delivering. */
export interface DeliveryAttempt {
  attempt: number;
  at: number;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event to deliver to a webhook, with its attempts so far. */
export interface WebhookDelivery {
  id: string;
  event: string;
  status: DeliveryStatus;
  createdAt: number;
  nextAttemptAt: number | null;
  attempts: DeliveryAttempt[];
}
