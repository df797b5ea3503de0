/**
 * The server's DTOs under the names the web code uses. They are generated, not written:
 * `schema.d.ts` comes from `openapi.json`, the server's own OpenAPI document
 * (`GET /api/openapi.json`), so a change on either side that the other does not follow
 * fails `npm run check` (server: `cargo test -p forankra --lib openapi::`; regenerate
 * with `FORANKRA_WRITE_OPENAPI=1 cargo test -p forankra --lib openapi::` and then
 * `npm run gen:api`). Times are epoch milliseconds.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export const ROLES: readonly Role[] = ['viewer', 'commenter', 'editor', 'owner'];

/** The caller as the server sees them. */
export type Me = Schemas['MeResponse'];
export type LoginResponse = Schemas['LoginResponse'];
export type LogoutResponse = Schemas['LogoutResponse'];
export type SignInMethods = Schemas['SignInMethods'];
export type TicketResponse = Schemas['TicketResponse'];
/** A document and the caller's role on it; `archivedAt` set on archived ones. */
export type DocumentInfo = Schemas['DocumentResponse'];
export type CreateDocumentRequest = Schemas['CreateDocumentRequest'];
export type PrincipalKind = Schemas['PrincipalKind'];
/** One organisation or user with a role on a document. */
export type Member = Schemas['MemberResponse'];
export type Organisation = Schemas['OrganisationResponse'];
/** Who wrote the text standing now (`GET /api/documents/{id}/attribution`). */
export type Attribution = Schemas['AttributionResponse'];
/** A page of a document's Yjs client ids and their organisations. */
export type AttributionClients = Schemas['ClientsResponse'];
/** The body of every error. */
export type ErrorBody = Schemas['ErrorResponse'];

type AnchorConflictResponse = Schemas['AnchorConflictResponse'];

/**
 * The 409 answer to accepting a proposal whose anchored text is not the text it was
 * written against: `anchor_changed` (accept again with `expectedQuote` = `quote`) or
 * `anchor_orphaned` (nothing left to replace). The server's schema also covers plain
 * `conflict`, which carries no quotes; these two codes always do.
 */
export interface AnchorConflict extends AnchorConflictResponse {
  error: 'anchor_changed' | 'anchor_orphaned';
  quote: string;
  originalQuote: string;
}

/** The document content downloads (`/markdown`, `/html`, `/text`). */
export type ExportFormat = 'markdown' | 'html' | 'text';

/** May this role change the text? (The server drops updates from the others.) */
export function canEdit(role: Role): boolean {
  return role === 'owner' || role === 'editor';
}

/** A thread's position on the text of a change request or remark. */
export type Stance = Schemas['Stance'];
export const STANCES: readonly Stance[] = [
  'tillstyrker',
  'avstyrker',
  'andringsforslag',
  'ingen_erinran',
];

/** How the owner dealt with a thread. */
export type Outcome = Schemas['Outcome'];
export const OUTCOMES: readonly Outcome[] = ['beaktad', 'delvis_beaktad', 'ej_beaktad', 'noterad'];

export type AnchorState = Schemas['AnchorState'];
export type ThreadStatus = Schemas['ThreadStatus'];
/** The two relative positions (standard base64 of `Y.encodeRelativePosition`). */
export type AnchorInput = Schemas['AnchorRequest'];
/** The anchor resolved against the current text. */
export type ThreadAnchor = Schemas['AnchorResponse'];
export type ThreadComment = Schemas['CommentResponse'];
/** `GET …/threads/{tid}/comments/{cid}/revisions`: one wording, oldest first. */
export type CommentRevision = Schemas['RevisionResponse'];
export type Resolution = Schemas['ResolutionResponse'];
export type Thread = Schemas['ThreadResponse'];
/** A named version, as threads refer to it. */
export type VersionRef = Schemas['VersionRef'];
export type CreateThreadRequest = Schemas['CreateThreadRequest'];
export type MentionRequest = Schemas['MentionRequest'];
export type Mentionable = Schemas['Mentionable'];
export type Following = Schemas['FollowingResponse'];
export type BulkDecision = Schemas['BulkDecisionResponse'];

/** May this role open threads and reply? */
export function canComment(role: Role): boolean {
  return role !== 'viewer';
}

/** The phase of a remiss round (docs/REMISS.md). */
export type Phase = Schemas['Phase'];
export const PHASES: readonly Phase[] = ['beredning', 'remiss', 'avslutad'];

/** An invitee's status, derived by the server from what its people did. */
export type InviteeStatus = Schemas['InviteeStatus'];
export type OrgRef = Schemas['OrgRef'];
export type Invitee = Schemas['InviteeResponse'];
export type Submission = Schemas['SubmissionResponse'];
/** `GET /api/documents/{id}/remiss`. */
export type RemissRound = Schemas['RoundResponse'];
/** `GET /api/documents/{id}/remiss/extensions`: requests for a later svarsdatum and decisions. */
export type RemissExtensions = Schemas['ExtensionsResponse'];
export type ExtensionRequest = Schemas['RequestResponse'];
export type ExtensionDecision = Schemas['DecisionResponse'];
/** `POST /api/documents/{id}/remiss/extensions/decisions`. */
export type ExtensionDecisionRequest = Schemas['DecisionRequest'];
/** `GET|PUT /api/me/preferences`: e-mail language and digest. */
export type Preferences = Schemas['PreferencesResponse'];
export type MailLanguage = Schemas['Language'];
export type EmailDigest = Schemas['Digest'];
/** `GET /api/documents/{id}/remiss/matrix`: the consensus matrix. */
export type RemissMatrix = Schemas['MatrixResponse'];
/** One organisation's point in a matrix cell. */
export type MatrixPoint = Schemas['Point'];
/** `POST /api/documents/import`: the new document and what did not come along. */
export type ImportDocumentResponse = Schemas['ImportDocumentResponse'];
export type NotCarried = Schemas['NotCarried'];
/** `PUT /api/documents/{id}/remiss`: any of the fields. */
export type UpdateRemissRequest = Schemas['UpdateRoundRequest'];
/** `POST /api/documents/{id}/remiss/response`. */
export type RemissAnswer = Schemas['AnswerRequest'];

/** A saved, immutable named version. */
export type Version = Schemas['VersionResponse'];
export type ParagraphChange = Schemas['ParagraphChange'];
export type WordChange = Schemas['WordChange'];
export type ParagraphDiff = Schemas['ParagraphDiff'];
/** Who inserted or deleted a run of a diff; `org: null` for unknown authorship. */
export type DiffAuthor = Schemas['DiffAuthor'];
/** `GET …/versions/diff`. */
export type VersionDiff = Schemas['DiffResponse'];

/** One entry of the audit trail (owners). */
export type AuditEntry = Schemas['AuditEntryResponse'];
/** What is wrong with the first bad entry or the head (docs/REMISS.md, "The audit trail"). */
export type AuditBreach = Schemas['Breach'];
/** `GET …/audit/verify`. */
export type AuditVerification = Schemas['Verification'];

export type WebhookEvent = Schemas['Event'];
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'thread.opened',
  'comment.added',
  'thread.resolved',
  'organisation.done',
];

/** A registered webhook; `secret` only in the answer to its registration. */
export type Webhook = Schemas['WebhookResponse'] &
  Partial<Pick<Schemas['CreatedWebhookResponse'], 'secret'>>;
/** One try at delivering. */
export type DeliveryAttempt = Schemas['AttemptResponse'];
export type DeliveryStatus = Schemas['DeliveryStatus'];
/** One event to deliver to a webhook, with its attempts so far. */
export type WebhookDelivery = Schemas['DeliveryResponse'];

/** One notification in my inbox, and a page of the inbox with the unread count. */
export type Notification = Schemas['NotificationResponse'];
export type Inbox = Schemas['InboxResponse'];
export type UnreadCount = Schemas['UnreadResponse'];
/** How I want one kind of notification: in the app, by e-mail, both or none. */
export type NotificationKind = Schemas['Kind'];
export type NotificationChannel = Schemas['Channel'];
export type NotificationSetting = Schemas['SettingResponse'];

/** A user as the administration page lists them (`GET /api/admin/users`). */
export type AdminUser = Schemas['AdminUserResponse'];
export type NewUserRequest = Schemas['NewUserRequest'];
export type EditUserRequest = Schemas['EditUserRequest'];
/** A configured identity provider (`GET /api/admin/providers`). */
export type Provider = Schemas['ProviderResponse'];
/** One claim value of one provider standing for one organisation. */
export type OrgMapping = Schemas['MappingResponse'];
/** One entry of the administration log. */
export type AdminLogEntry = Schemas['AdminLogEntry'];
/** One identity provider's button on the login page. */
export type SignInProvider = Schemas['SignInProvider'];
