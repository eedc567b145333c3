import { defineMessages } from '../core';

/** The shared <Pagination/> control. */
export const pagination = defineMessages({
  id: {
    pagination: 'Halaman',
    previous: 'Sebelumnya',
    next: 'Berikutnya',
    range: '{from}–{to} dari {total}',
    rangeOpen: '{from}–{to}',
  },
  en: {
    pagination: 'Pages',
    previous: 'Previous',
    next: 'Next',
    range: '{from}–{to} of {total}',
    rangeOpen: '{from}–{to}',
  },
});
