/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// `siprems serve` listens on 127.0.0.1:8080 by default; override with SIPREMS_API.
const api = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env['SIPREMS_API'] ?? 'http://127.0.0.1:8080';
const proxy = {
  '/api': { target: api, changeOrigin: false },
  '/health': { target: api },
  '/ready': { target: api },
};

export default defineConfig({
  plugins: [preact()],
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
