import { createTheme, type MantineColorsTuple } from '@mantine/core';

// A calm, slightly desaturated blue close to PostgreSQL's own.
const pg: MantineColorsTuple = [
  '#eef4fb',
  '#dce6f2',
  '#b5cbe5',
  '#8baed8',
  '#6896cd',
  '#5186c7',
  '#437ec5',
  '#356bae',
  '#2c5f9c',
  '#1f528a',
];

const systemSans =
  'system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI Variable Text", "Segoe UI", Ubuntu, Cantarell, "Noto Sans", Roboto, "Helvetica Neue", Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji"';

export const theme = createTheme({
  primaryColor: 'pg',
  primaryShade: { light: 7, dark: 5 },
  colors: { pg },
  fontFamily: systemSans,
  fontFamilyMonospace: 'ui-monospace, "SF Mono", SFMono-Regular, Menlo, Consolas, "Cascadia Mono", "DejaVu Sans Mono", "Liberation Mono", monospace',
  headings: { fontFamily: systemSans, fontWeight: '600' },
  defaultRadius: 'md',
  cursorType: 'default',
  focusRing: 'auto',
});
