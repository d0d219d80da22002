import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The app runs inside the OS web view: WebKitGTK on Linux, WKWebView on
    // macOS, WebView2 on Windows. Stay on syntax every supported one parses.
    target: ['es2020', 'safari15', 'chrome100'],
    cssTarget: ['safari15', 'chrome100'],
    chunkSizeWarningLimit: 1500,
  },
  server: {
    strictPort: false,
  },
  test: {
    environment: 'happy-dom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    mockReset: true,
    // Bounds, not waits: a test ends as soon as what it waits for shows. On a
    // loaded 2-core machine typing into Mantine forms took over vitest's 5 s
    // default (issue 12's flake hunt).
    testTimeout: 60_000,
    restoreMocks: true,
  },
});
