/**
 * Swedish, the default language and the source of the key set: every key here must also
 * be in `en.ts` (its type is `Messages`, so a missing or extra key fails `tsc`).
 * `{name}` marks a parameter filled in by `t(key, { name })`.
 */
export const sv = {
  'app.name': 'Förankra',
  'app.tagline': 'Gemensamt arbete med stadens styrdokument',
  'app.skipToContent': 'Hoppa till innehållet',
  'app.mainNav': 'Huvudmeny',
  'app.documentsLink': 'Dokument',
  'app.signedInAs': 'Inloggad som {name}, {org}',
  'app.logout': 'Logga ut',
  'app.language': 'Språk',
  'app.loading': 'Laddar…',
  'app.notFound.title': 'Sidan finns inte',
  'app.notFound.body': 'Adressen leder inte till någon sida i Förankra.',
  'app.backToDocuments': 'Till dokumentlistan',

  'login.title': 'Logga in',
  'login.intro':
    'Logga in med ditt användarnamn och lösenord för att läsa och arbeta med stadens utkast.',
  'login.username': 'Användarnamn',
  'login.password': 'Lösenord',
  'login.submit': 'Logga in',
  'login.submitting': 'Loggar in…',
  'login.badCredentials': 'Fel användarnamn eller lösenord. Försök igen.',
  'login.missingFields': 'Fyll i både användarnamn och lösenord.',
  'login.sessionExpired': 'Din inloggning har gått ut. Logga in igen.',
  'login.loggedOut': 'Du är utloggad.',

  'error.network': 'Det gick inte att nå servern. Kontrollera anslutningen och försök igen.',
  'error.generic': 'Något gick fel: {message}',
  'error.forbidden': 'Du har inte behörighet att göra det.',

  'role.owner': 'Ägare',
  'role.editor': 'Redaktör',
  'role.commenter': 'Kommentator',
  'role.viewer': 'Läsare',

  'list.title': 'Dokument',
  'list.intro': 'Utkast som din organisation äger eller har bjudits in till.',
  'list.caption': 'Dina dokument',
  'list.colTitle': 'Titel',
  'list.colOwner': 'Ägs av',
  'list.colRole': 'Din roll',
  'list.colUpdated': 'Senast ändrad',
  'list.empty': 'Du har inga dokument ännu. Skapa ett nedan.',
  'list.loadFailed': 'Dokumentlistan kunde inte hämtas: {message}',

  'create.title': 'Skapa ett nytt dokument',
  'create.intro':
    'Din organisation blir ägare till dokumentet. Du kan börja med en tom text eller klistra in Markdown.',
  'create.titleLabel': 'Titel',
  'create.markdownLabel': 'Innehåll i Markdown (valfritt)',
  'create.markdownHint':
    'Rubriker (#), stycken, listor, fetstil och kursiv följer med. Du kan också läsa in en .md-fil.',
  'create.fileLabel': 'Läs in en Markdown-fil (.md)',
  'create.fileLoaded': 'Filen {name} är inläst i textfältet.',
  'create.fileFailed': 'Filen kunde inte läsas.',
  'create.submit': 'Skapa dokument',
  'create.submitting': 'Skapar…',
  'create.titleMissing': 'Ange en titel.',
  'create.failed': 'Dokumentet kunde inte skapas: {message}',

  'doc.loadFailed': 'Dokumentet kunde inte hämtas: {message}',
  'doc.notFound': 'Dokumentet finns inte, eller så har det tagits bort.',
  'doc.noAccess': 'Du har inte tillgång till det här dokumentet.',
  'doc.meta': 'Ägs av {org} · Din roll: {role} · Senast ändrad {updated}',
  'doc.roleChanged': 'Din roll i dokumentet är nu {role}.',
  'doc.textLabel': 'Dokumenttext',
  'doc.editorLabel': 'Dokumenttext, {title}',
  'doc.readonly.commenter':
    'Du har rollen kommentator och kan läsa texten men inte ändra den. Kommentarer lämnas i marginalen.',
  'doc.readonly.viewer': 'Du har rollen läsare och kan följa texten men inte ändra den.',
  'doc.readonly.offline':
    'Texten går inte att ändra just nu eftersom anslutningen till servern saknas.',
  'doc.readonly.loading': 'Texten hämtas från servern…',
  'doc.toolbarHint': 'Tryck Alt+F10 i texten för att gå till verktygsfältet.',

  'toolbar.label': 'Textformat',
  'toolbar.paragraph': 'Brödtext',
  'toolbar.heading': 'Rubrik {level}',
  'toolbar.bold': 'Fet',
  'toolbar.boldShort': 'F',
  'toolbar.italic': 'Kursiv',
  'toolbar.italicShort': 'K',
  'toolbar.bulletList': 'Punktlista',
  'toolbar.orderedList': 'Numrerad lista',
  'toolbar.undo': 'Ångra',
  'toolbar.redo': 'Gör om',

  'connection.label': 'Anslutning',
  'connection.connecting': 'Ansluter…',
  'connection.connected': 'Ansluten',
  'connection.reconnecting': 'Återansluter…',
  'connection.disconnected': 'Frånkopplad',
  'connection.announce': 'Anslutning: {state}',
  'connection.reason.4401': 'Din inloggning gäller inte längre. Logga in igen för att fortsätta.',
  'connection.reason.4403':
    'Du har inte längre tillgång till dokumentet. Din organisations roll kan ha tagits bort.',
  'connection.reason.4404': 'Dokumentet finns inte längre. Det kan ha tagits bort.',
  'connection.reason.4413':
    'Ändringen var för stor för servern och skickades inte. Ladda om sidan för att fortsätta.',
  'connection.reason.4400':
    'Servern kunde inte läsa ett meddelande från webbläsaren. Ladda om sidan för att fortsätta.',
  'connection.reason.other': 'Anslutningen stängdes av servern (kod {code}). Ladda om sidan.',
  'connection.reload': 'Ladda om sidan',
  'connection.loginAgain': 'Logga in igen',

  'presence.title': 'Här nu',
  'presence.you': '{name} (du)',
  'presence.person': '{name} ({org})',
  'presence.joined': '{name} ({org}) har öppnat dokumentet.',
  'presence.left': '{name} ({org}) har lämnat dokumentet.',
  'presence.onlyYou': 'Bara du',

  'export.title': 'Ladda ner',
  'export.markdown': 'Markdown',
  'export.html': 'HTML',
  'export.text': 'Text',
  'export.markdownLabel': 'Ladda ner som Markdown',
  'export.htmlLabel': 'Ladda ner som HTML',
  'export.textLabel': 'Ladda ner som text',
  'export.started': 'Filen {file} har laddats ner.',
  'export.failed': 'Filen kunde inte laddas ner: {message}',

  'members.title': 'Medlemmar',
  'members.toggle': 'Medlemmar',
  'members.intro':
    'Organisationer och personer med en roll i dokumentet. Ägaren bjuder in och ändrar roller.',
  'members.colName': 'Organisation eller person',
  'members.colRole': 'Roll',
  'members.colActions': 'Åtgärder',
  'members.kind.org': 'Organisation',
  'members.kind.user': 'Person',
  'members.ownerOrg': 'ägande organisation',
  'members.roleFor': 'Roll för {name}',
  'members.save': 'Spara',
  'members.saveFor': 'Spara roll för {name}',
  'members.remove': 'Ta bort',
  'members.removeFor': 'Ta bort {name}',
  'members.confirmRemove': 'Ta bort {name} från dokumentet? Deras öppna anslutningar stängs.',
  'members.invite.title': 'Bjud in en organisation',
  'members.invite.org': 'Organisation',
  'members.invite.role': 'Roll',
  'members.invite.choose': 'Välj organisation',
  'members.invite.submit': 'Bjud in',
  'members.invite.none': 'Alla organisationer är redan medlemmar.',
  'members.invited': '{name} är inbjuden som {role}.',
  'members.changed': '{name} har nu rollen {role}.',
  'members.removed': '{name} är borttagen från dokumentet.',
  'members.failed': 'Ändringen kunde inte sparas: {message}',
  'members.loadFailed': 'Medlemmarna kunde inte hämtas: {message}',
  'members.ownerOnly': 'Bara ägaren kan ändra medlemmar.',

  'comments.title': 'Kommentarer',
  'comments.placeholder':
    'Här visas kommentarstrådarna till texten, förankrade vid stycket de gäller. Funktionen kommer i nästa version.',
} satisfies Record<string, string>;

export type MessageKey = keyof typeof sv;
export type Messages = Record<MessageKey, string>;
