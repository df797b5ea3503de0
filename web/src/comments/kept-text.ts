/**
 * Text the user wrote that can no longer be sent because the remiss round closed while
 * they wrote it: shown read-only under its label, so it is not lost and can be copied
 * into an e-mail or kept for the owners.
 */
import { h, uid } from '../dom';

export function keptText(label: string, text: string): HTMLElement {
  const id = uid('kept-text');
  const area = h('textarea', { id, rows: 3, readonly: true, class: 'kept-text' });
  area.value = text;
  return h(
    'div',
    { class: 'field kept', 'data-testid': 'kept-text' },
    h('label', { for: id }, label),
    area,
  );
}
