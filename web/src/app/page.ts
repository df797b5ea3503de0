import { t } from '../i18n';

/** Sets the tab's title: "Page – Förankra". */
export function setPageTitle(title: string): void {
  document.title = title ? `${title} – ${t('app.name')}` : t('app.name');
}
