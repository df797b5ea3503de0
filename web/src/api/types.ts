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
