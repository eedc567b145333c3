import { defineMessages } from '../core';

/** Navigation labels (also the screens' titles). */
export const nav = defineMessages({
  id: {
    dashboard: 'Dasbor',
    pos: 'Kasir',
    products: 'Produk',
    transactions: 'Transaksi',
    calendar: 'Kalender',
    prediction: 'Prediksi',
    assistant: 'Asisten',
    settings: 'Pengaturan',
    users: 'Pengguna',
    mainNav: 'Navigasi utama',
  },
  en: {
    dashboard: 'Dashboard',
    pos: 'Point of sale',
    products: 'Products',
    transactions: 'Transactions',
    calendar: 'Calendar',
    prediction: 'Prediction',
    assistant: 'Assistant',
    settings: 'Settings',
    users: 'Users',
    mainNav: 'Main navigation',
  },
});
