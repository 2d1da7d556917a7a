// Talks to the gateway with a bearer token kept in session storage (never in a URL, gone with the tab).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(base, storageKey) {
    this.base = base;
    this.storageKey = storageKey;
    this.onUnauthorized = () => {};
  }

  get token() {
    return sessionStorage.getItem(this.storageKey);
  }

  set token(value) {
    if (value) sessionStorage.setItem(this.storageKey, value);
    else sessionStorage.removeItem(this.storageKey);
  }

  get(path) { return this.call('GET', path); }
  post(path, body) { return this.call('POST', path, body ?? {}); }
  patch(path, body) { return this.call('PATCH', path, body); }

  async call(method, path, body) {
    const headers = { authorization: 'Bearer ' + this.token, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'network', 'The gateway did not answer. Check that it is running and that this page can reach it.');
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!res.ok) {
      const err = new ApiError(res.status, json?.error ?? 'http_' + res.status, explain(res.status, json));
      if (res.status === 401) this.onUnauthorized(err);
      throw err;
    }
    return json;
  }
}

function explain(status, json) {
  const said = json?.message ?? `The gateway answered HTTP ${status}.`;
  const field = json?.field ? ` (field “${json.field}”)` : '';
  switch (status) {
    case 401: return 'You are not signed in, or the token is not accepted: ' + said;
    case 404: return 'Not found: ' + said;
    case 429: return 'Too many requests; try again in a moment. ' + said;
    case 503: return 'The gateway is busy or a dependency is down; try again shortly. ' + said;
    default: return said + field;
  }
}
