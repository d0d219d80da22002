import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from './api';
import { HealthPanel } from './components/HealthPanel';
import { renderWithTheme } from './test/render';

vi.mock('./api', async (importOriginal) => {
  const real = await importOriginal<typeof import('./api')>();
  return { ...real, healthPolicy: vi.fn(), healthHistory: vi.fn(), setHealthPolicy: vi.fn(), checkHealth: vi.fn() };
});

const m = vi.mocked;

beforeEach(() => {
  m(api.healthPolicy).mockResolvedValue({ intervalSeconds: 300, failuresBeforeDown: 2 });
  m(api.healthHistory).mockResolvedValue([
    { at: new Date(Date.now() - 120_000).toISOString(), ok: false, latencyMs: 5000, error: 'connection refused by 10.0.0.5:5432' },
    { at: new Date(Date.now() - 420_000).toISOString(), ok: true, latencyMs: 12 },
  ]);
  m(api.setHealthPolicy).mockResolvedValue();
  m(api.checkHealth).mockResolvedValue({ at: new Date().toISOString(), ok: true, latencyMs: 9 });
});

describe('connection check', () => {
  it('shows the policy and the recent checks, saves a new interval, checks now', async () => {
    const user = userEvent.setup();
    renderWithTheme(<HealthPanel db="shop" />);
    const hist = await screen.findByTestId('health-history');
    expect(hist).toHaveTextContent('✗ 2 min ago');
    expect(hist).toHaveTextContent('✓ 7 min ago');
    await waitFor(() => expect(screen.getByLabelText('Down after failures in a row')).toHaveValue('2'));
    await user.click(screen.getAllByLabelText('How often')[0]);
    await user.click(await screen.findByRole('option', { name: 'Every hour' }));
    await user.click(screen.getByRole('button', { name: 'Save check' }));
    expect(api.setHealthPolicy).toHaveBeenCalledWith('shop', { intervalSeconds: 3600, failuresBeforeDown: 2 });
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    expect(api.checkHealth).toHaveBeenCalledWith('shop');
    await waitFor(() => expect(api.healthHistory).toHaveBeenCalledTimes(2));
  });
});
