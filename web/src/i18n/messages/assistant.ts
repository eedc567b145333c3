import { defineMessages } from '../core';

export const assistant = defineMessages({
  id: {
    lead: 'Tanyakan tentang penjualan, stok, dan perkiraan toko Anda.',
    conversation: 'Percakapan',
    empty: 'Asisten akan segera hadir di sini. Anda akan bisa bertanya, misalnya “produk apa yang perlu direstok minggu ini?”',
    message: 'Pesan',
    placeholder: 'Tulis pertanyaan…',
    send: 'Kirim',
    comingSoon: 'Segera hadir: asisten belum aktif.',
  },
  en: {
    lead: 'Ask about your shop’s sales, stock and forecasts.',
    conversation: 'Conversation',
    empty: 'The assistant is coming here soon. You will be able to ask, for example, “which products need restocking this week?”',
    message: 'Message',
    placeholder: 'Type a question…',
    send: 'Send',
    comingSoon: 'Coming soon: the assistant is not active yet.',
  },
});
