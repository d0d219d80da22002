import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { theme } from '../theme';

/** Renders inside the same provider as the app, without transitions. */
export function renderWithTheme(ui: ReactElement) {
  return render(
    <MantineProvider theme={{ ...theme, components: { Transition: { defaultProps: { duration: 0 } } } }} env="test">
      {ui}
    </MantineProvider>,
  );
}
