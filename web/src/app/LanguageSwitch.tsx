import { useI18n, useT } from '../i18n';
import { common } from '../i18n/messages/common';
import { LOCALES, type Locale } from '../i18n/core';

const NAMES: Record<Locale, string> = { id: 'Bahasa Indonesia', en: 'English' };

export function LanguageSwitch() {
  const { locale, setLocale } = useI18n();
  const t = useT(common);
  return (
    <label class="lang-switch">
      <span class="visually-hidden">{t('language')}</span>
      <select value={locale} onChange={(e) => setLocale(e.currentTarget.value as Locale)} aria-label={t('language')}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
