// Vite build of the CityOps web UI into the Python package's static folder (served by FastAPI).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

const backend = process.env.CITYOPS_DEV_BACKEND ?? 'http://127.0.0.1:8000'

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json)$/

/** Write a brotli (.br, quality 11) and a gzip (.gz, level 9) copy beside every text asset of
 * the build, once, so the server sends them as they are (Content-Encoding) and never spends CPU
 * compressing the same bytes per request. Copies that would not be smaller are not written. */
function precompress(): Plugin {
  return {
    name: 'cityops-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist'
      for (const name of Object.keys(bundle)) {
        if (!name.startsWith('assets/') || !COMPRESSIBLE.test(name)) continue
        const path = join(dir, name)
        const raw = readFileSync(path)
        if (raw.length < 1024) continue
        const br = brotliCompressSync(raw, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
          },
        })
        const gz = gzipSync(raw, { level: 9 })
        if (br.length < raw.length) writeFileSync(`${path}.br`, br)
        if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz)
      }
    },
  }
}

export default defineConfig({
  plugins: [vue(), precompress()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  define: {
    __VUE_OPTIONS_API__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: '../src/cityops/web/static',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        public: fileURLToPath(new URL('./public.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/ngsi-ld': { target: backend, changeOrigin: false },
    },
  },
})
