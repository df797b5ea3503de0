/**
 * Who is here now, from the provider's awareness: each client publishes
 * `user: { id, name, org, color }` (CollaborationCaret draws remote carets from the same
 * field). Several tabs of one person count once. Joins and leaves are announced in the
 * live region, but not the mass removal y-websocket does when our own socket drops.
 */
import type { Awareness } from 'y-protocols/awareness';
import type { Me } from '../api/types';

export interface PresenceUser {
  /** User id (stable across tabs). */
  id: string;
  name: string;
  /** Organisation name, as shown in labels. */
  org: string;
  /** `#rrggbb`, the caret and selection colour. */
  color: string;
}

export interface Person extends PresenceUser {
  isSelf: boolean;
}

/** Dark enough for white label text (≥ 4.5:1) and distinct from one another. */
const PALETTE = [
  '#1d5a9e',
  '#a0361c',
  '#2a6f2f',
  '#6b3fa0',
  '#8a4b08',
  '#00695c',
  '#a1214f',
  '#3f4d5a',
] as const;

/**
 * A peer's colour if it is a plain `#rrggbb`, else the first of ours: the value comes from
 * another client's awareness state and ends up in style properties, so nothing else
 * (`red; background: url(…)`) may pass.
 */
export function safeColor(value: unknown): string {
  return typeof value === 'string' && /^#[0-9a-fA-F]{6}$/.test(value) ? value : PALETTE[0];
}

export function colorFor(userId: string): string {
  let hash = 0;
  for (const char of userId) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return PALETTE[hash % PALETTE.length] ?? PALETTE[0];
}

export function presenceUser(me: Me): PresenceUser {
  return { id: me.id, name: me.name, org: me.orgName, color: colorFor(me.id) };
}

export function personLabel(user: { name: string; org: string }): string {
  return `${user.name} (${user.org})`;
}

type Listener = (people: Person[]) => void;
type ChangeListener = (change: { joined: Person[]; left: Person[] }) => void;

export class PresenceTracker {
  private people: Person[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly changeListeners = new Set<ChangeListener>();
  /** Everyone seen since we joined: a reconnect does not announce them again. */
  private readonly known = new Map<string, Person>();
  private readonly onChange = () => this.refresh();

  constructor(
    private readonly awareness: Awareness,
    private readonly selfId: string,
    /** Whether our own socket is up; leaves while it is down are not announced. */
    private readonly isOnline: () => boolean,
  ) {
    awareness.on('change', this.onChange);
    this.refresh();
  }

  get list(): Person[] {
    return this.people;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** People arriving and leaving (others only), for announcements. */
  onJoinLeave(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * After a reconnect: y-websocket resends our presence with the clock it had, and the
   * others, who saw it removed at that clock when our old socket went, ignore a state
   * that is not newer until the awareness protocol renews it (every 15 s). Setting the
   * same state again gives it a new clock, so we are back in their lists at once.
   */
  renew(): void {
    const state = this.awareness.getLocalState();
    if (state) this.awareness.setLocalState({ ...state });
  }

  /**
   * While our socket is down: y-websocket removed the others' states when it dropped but
   * keeps their clocks, so the snapshot the server sends when we reconnect, at those same
   * clocks, would be ignored until each of them renews (every 15 s). Forgetting the
   * clocks of people no longer shown lets the snapshot in.
   */
  forgetAbsent(): void {
    for (const client of [...this.awareness.meta.keys()]) {
      if (client !== this.awareness.clientID && !this.awareness.states.has(client)) {
        this.awareness.meta.delete(client);
      }
    }
  }

  destroy(): void {
    this.awareness.off('change', this.onChange);
    this.listeners.clear();
    this.changeListeners.clear();
  }

  private refresh(): void {
    const byId = new Map<string, Person>();
    for (const state of this.awareness.getStates().values()) {
      const user = parseUser(state.user);
      if (!user || byId.has(user.id)) continue;
      byId.set(user.id, { ...user, isSelf: user.id === this.selfId });
    }
    const people = [...byId.values()].sort(
      (a, b) => Number(b.isSelf) - Number(a.isSelf) || a.name.localeCompare(b.name, 'sv'),
    );
    const online = this.isOnline();
    const joined: Person[] = [];
    const left: Person[] = [];
    for (const person of people) {
      if (!person.isSelf && !this.known.has(person.id)) joined.push(person);
      this.known.set(person.id, person);
    }
    if (online) {
      for (const [id, person] of this.known) {
        if (!byId.has(id) && !person.isSelf) {
          left.push(person);
          this.known.delete(id);
        }
      }
    }
    this.people = people;
    for (const listener of this.listeners) listener(people);
    if (joined.length || left.length) {
      for (const listener of this.changeListeners) listener({ joined, left });
    }
  }
}

function parseUser(value: unknown): PresenceUser | null {
  if (!value || typeof value !== 'object') return null;
  const user = value as Record<string, unknown>;
  if (typeof user.name !== 'string' || !user.name) return null;
  const org = typeof user.org === 'string' ? user.org : '';
  const id = typeof user.id === 'string' && user.id ? user.id : `${user.name}|${org}`;
  return { id, name: user.name, org, color: safeColor(user.color) };
}
