import { defineMessages } from '../core';
import type { ErrorCode } from '../../api/errors';

/**
 * One message per API error code (see `ErrorCode`), plus `network` for a request that
 * never reached the server. A new code in the API is a type error here until translated.
 */
export const errors = defineMessages<ErrorCode | 'network' | 'title'>({
  id: {
    title: 'Terjadi masalah',
    network: 'Tidak dapat terhubung ke server. Periksa jaringan lalu coba lagi.',
    validation_failed: 'Beberapa isian belum benar. Periksa lalu coba lagi.',
    bad_request: 'Permintaan tidak dapat dibaca oleh server.',
    unauthenticated: 'Sesi Anda berakhir. Silakan masuk lagi.',
    forbidden: 'Akun Anda tidak diizinkan melakukan ini.',
    not_found: 'Data yang dicari tidak ditemukan.',
    no_route: 'Alamat ini tidak ada di server.',
    method_not_allowed: 'Tindakan ini tidak didukung.',
    conflict: 'Data berubah atau sudah ada. Muat ulang lalu coba lagi.',
    insufficient_stock: 'Stok tidak mencukupi untuk beberapa produk.',
    payload_too_large: 'Data yang dikirim terlalu besar.',
    unsupported_media_type: 'Format data tidak didukung.',
    unprocessable: 'Permintaan tidak dapat diproses.',
    idempotency_key_reused: 'Permintaan ini bentrok dengan yang sebelumnya. Coba lagi.',
    idempotency_key_in_flight: 'Permintaan yang sama masih diproses. Tunggu sebentar.',
    rate_limited: 'Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.',
    unavailable: 'Layanan sedang tidak tersedia. Coba lagi nanti.',
    assistant_provider_failed: 'Asisten tidak dapat menjawab sekarang (layanan AI bermasalah). Percakapan tetap tersimpan; coba lagi.',
    internal: 'Terjadi kesalahan di server.',
  },
  en: {
    title: 'Something went wrong',
    network: 'Cannot reach the server. Check the network and try again.',
    validation_failed: 'Some fields are not valid. Check them and try again.',
    bad_request: 'The server could not read the request.',
    unauthenticated: 'Your session has ended. Please sign in again.',
    forbidden: 'Your account is not allowed to do this.',
    not_found: 'What you are looking for was not found.',
    no_route: 'This address does not exist on the server.',
    method_not_allowed: 'This action is not supported.',
    conflict: 'The data changed or already exists. Reload and try again.',
    insufficient_stock: 'Not enough stock for some products.',
    payload_too_large: 'What was sent is too large.',
    unsupported_media_type: 'This data format is not supported.',
    unprocessable: 'The request cannot be carried out.',
    idempotency_key_reused: 'This request clashes with an earlier one. Try again.',
    idempotency_key_in_flight: 'The same request is still running. Wait a moment.',
    rate_limited: 'Too many requests. Wait a moment and try again.',
    unavailable: 'The service is unavailable. Try again later.',
    assistant_provider_failed: 'The assistant cannot answer right now (its AI service failed). The conversation is kept; try again.',
    internal: 'The server ran into an error.',
  },
});
