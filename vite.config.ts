import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

/** The editor: `npm run dev` serves it with the API proxied to a local server; `npm run build` writes dist/editor. */
export default defineConfig({
  root: 'editor',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/editor',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8787', changeOrigin: true, ws: true },
    },
  },
})
