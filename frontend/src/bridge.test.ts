import { describe, expect, it, vi } from 'vitest';
import { installBridge } from './bridge';

describe('installBridge', () => {
  it('sends a generated binding call to App.Call with its name and arguments', async () => {
    const Call = vi.fn().mockResolvedValue([{ name: 'shop' }]);
    const w: any = { go: { main: { App: { Call } } } };
    installBridge(w);
    const out = await w.go.ui.BackupService.List('shop', 30);
    expect(Call).toHaveBeenCalledWith('BackupService.List', ['shop', 30]);
    expect(out).toEqual([{ name: 'shop' }]);
  });

  it('passes the agent’s error through as the rejection', async () => {
    const Call = vi.fn().mockRejectedValue('the server refused the password');
    const w: any = { go: { main: { App: { Call } } } };
    installBridge(w);
    await expect(w.go.ui.DatabaseService.Test({})).rejects.toBe('the server refused the password');
  });

  it('keeps the window’s own bindings and rejects when App is missing', async () => {
    const w: any = { go: { main: {} } };
    installBridge(w);
    expect(w.go.main).toEqual({});
    await expect(w.go.ui.SystemService.KeyStatus()).rejects.toThrow(/not connected/);
  });
});

describe('installBridge, wrapped', () => {
  it('keeps a method a caller replaced, as Wails’ own bindings do', async () => {
    const Call = vi.fn().mockResolvedValue({ installs: [] });
    const w: any = { go: { main: { App: { Call } } } };
    installBridge(w);
    const svc = w.go.ui.SystemService;
    expect(w.go.ui.SystemService).toBe(svc);
    const real = svc.ClientTools;
    let calls = 0;
    svc.ClientTools = (...a: unknown[]) => {
      calls++;
      return real(...a);
    };
    await w.go.ui.SystemService.ClientTools();
    expect(calls).toBe(1);
    expect(Call).toHaveBeenCalledWith('SystemService.ClientTools', []);
  });
});
