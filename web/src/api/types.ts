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
  deleted: boolean;
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
  createdAt: number;
  updatedAt: number;
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
