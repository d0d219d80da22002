// The window's Go process holds no engine: PgSafe's agent does (backend/agent,
// docs/AGENT.md). The generated bindings in ./wailsjs/go/ui call
// window.go.ui.<Service>.<Method>(…); installBridge answers those calls by
// sending each one to the agent through the window's one bound method,
// App.Call("<Service>.<Method>", [args]). The TypeScript wrappers and models
// are still generated from the Go services, so nothing is typed by hand.

type Caller = (method: string, args: unknown[]) => Promise<unknown>;

interface WailsWindow {
  go?: Record<string, unknown> & { main?: { App?: { Call?: Caller } } };
}

/** Routes window.go.ui.* to App.Call. Call once, before the first binding call. */
export function installBridge(w: WailsWindow = window as unknown as WailsWindow): void {
  w.go = w.go ?? {};
  const call: Caller = (method, args) => {
    const fn = w.go?.main?.App?.Call;
    if (!fn) return Promise.reject(new Error('PgSafe’s window is not connected to its Go side'));
    return fn(method, args);
  };
  // Each service and method is made on first use and kept, so that a
  // method can be wrapped like any bound one (the e2e tests count calls).
  const service = (name: string) =>
    new Proxy({} as Record<string, unknown>, {
      get: (methods, method) => {
        if (typeof method !== 'string') return undefined;
        if (!(method in methods)) methods[method] = (...args: unknown[]) => call(`${name}.${method}`, args);
        return methods[method];
      },
    });
  w.go.ui = new Proxy({} as Record<string, unknown>, {
    get: (services, name) => {
      if (typeof name !== 'string') return undefined;
      if (!(name in services)) services[name] = service(name);
      return services[name];
    },
  });
}
