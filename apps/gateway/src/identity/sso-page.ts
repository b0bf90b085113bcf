import { AppError, ERROR_HTTP_MAP, ErrorCode } from '@tenantry/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Whether the caller is a browser following the SSO flow (it asked for HTML), not an API client. */
export function wantsHtml(request: Pick<FastifyRequest, 'headers'>): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

/**
 * The page a browser sees when an SSO sign-in is refused: the status, and the reason in
 * words (escaped), with the request id to quote to an administrator. API clients get the
 * problem document instead (the error is rethrown).
 */
export function refusalPage(
  error: unknown,
  request: Pick<FastifyRequest, 'headers' | 'id'>,
  reply: FastifyReply,
): string {
  if (!(error instanceof AppError) || !wantsHtml(request)) throw error;
  const { status, title } = ERROR_HTTP_MAP[error.code] ?? ERROR_HTTP_MAP[ErrorCode.Internal];
  reply
    .status(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  if (error.retryAfterSeconds) reply.header('Retry-After', String(error.retryAfterSeconds));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{color:#555}</style>
</head><body>
<h1>Sign-in refused</h1>
<p>${escapeHtml(error.message)}</p>
<p><code>${status} ${escapeHtml(title)}${error.reason ? ` · ${escapeHtml(error.reason)}` : ''} · request ${escapeHtml(String(request.id))}</code></p>
</body></html>
`;
}
