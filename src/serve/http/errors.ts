/**
 * API errors in the OpenAI / DeepSeek shape: `{"error": {"message", "type", "param", "code"}}`, with
 * DeepSeek's status codes — 400 malformed request (bad JSON, bad UTF-8), 401 bad API key, 403 foreign
 * Host or Origin, 404 no such route or model, 408 body too slow, 413 body too large, 415 not JSON,
 * 422 invalid parameters, 429 queue full, 503 overloaded.
 */

const TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'invalid_request_error',
  403: 'permission_error',
  405: 'invalid_request_error',
  408: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'server_error',
  503: 'overloaded_error',
};

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export class ApiError extends Error {
  /** Extra response headers (Retry-After on a 429 or 503). */
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get type(): string {
    return TYPES[this.status] ?? (this.status >= 500 ? 'server_error' : 'invalid_request_error');
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request cannot be read (not JSON, not UTF-8, not an object). */
export const malformed = (message: string, code = 'invalid_request') => new ApiError(400, message, code);

/** 422: a parameter is missing, of the wrong type, out of range or unknown. */
export const invalidParam = (param: string, message: string, code = 'invalid_parameter') => new ApiError(422, message, code, param);
