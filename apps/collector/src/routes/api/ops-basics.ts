/** The operations routes (health, readiness, metrics, this document), the SDK files and the dashboard's pages, declared once. */
import { z } from 'zod'
import { error, json, STORAGE, text, type Operation } from './define.js'
import { Health, OpenApiDocument, Ready } from './schemas.js'

/** A built SDK file, as `GET /t.js` and its siblings serve it. */
export function sdkFile(operationId: string, summary: string): Operation {
  const etag = { ETag: { description: 'Strong validator of this coding of the file.', required: true, schema: text } }
  return {
    operationId,
    summary,
    tags: ['browser'],
    auth: 'none',
    description:
      'Brotli when `Accept-Encoding` allows it, else gzip, else uncompressed (`Vary: Accept-Encoding`), with an ETag per coding and `Cache-Control: public, max-age=300, stale-while-revalidate=86400, stale-if-error=86400`.',
    responses: {
      200: { description: 'JavaScript.', content: { 'text/javascript': { schema: text } }, headers: etag },
      304: { description: 'Not modified: `If-None-Match` named the ETag of this coding.', headers: etag },
      503: error('`unavailable`: the SDK is not built.'),
    },
  }
}

export const BASIC_OPERATIONS: Record<string, Operation> = {
  'GET /healthz': {
    operationId: 'getHealthz',
    summary: 'Liveness',
    tags: ['operations'],
    auth: 'none',
    responses: { 200: json('The process answers.', Health) },
  },
  'GET /readyz': {
    operationId: 'getReadyz',
    summary: 'Readiness: the database answers',
    tags: ['operations'],
    auth: 'none',
    responses: { 200: json('Ready.', Ready), 503: STORAGE },
  },
  'GET /metrics': {
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    auth: 'none',
    responses: { 200: { description: 'Text exposition format 0.0.4.', content: { 'text/plain': { schema: text } } } },
  },
  'GET /openapi.json': {
    operationId: 'getOpenApi',
    summary: 'This document',
    tags: ['operations'],
    auth: 'none',
    description: '`servers` holds the origin the request reached: its own URL, or `X-Forwarded-Proto` and `X-Forwarded-Host` from a trusted proxy.',
    responses: { 200: json('OpenAPI 3.1.', OpenApiDocument) },
  },
  'GET /t.js': sdkFile('getScript', 'The script-tag SDK'),
  'GET /t.debug.js': sdkFile('getDebugScript', 'The script-tag SDK with `data-debug` console diagnostics'),
  'GET /sdk.mjs': sdkFile('getModuleScript', 'The ESM SDK for `<script type="module">`, its dependency included'),
  'GET /dashboard': {
    operationId: 'getDashboard',
    summary: 'The dashboard, or its sign-in form',
    tags: ['dashboard'],
    auth: 'none',
    description: '`/dashboard/` redirects here (301).',
    responses: { 200: { description: 'HTML.', content: { 'text/html': { schema: text } } } },
  },
  'POST /dashboard/sign-in': {
    operationId: 'postDashboardSignIn',
    summary: 'Sign in with the read key',
    tags: ['dashboard'],
    auth: 'none',
    body: { contentType: 'application/x-www-form-urlencoded', schema: z.object({ key: z.string() }) },
    responses: {
      303: {
        description: 'Signed in: an HttpOnly, SameSite=Strict cookie, back to /dashboard.',
        headers: {
          Location: { description: '`/dashboard`.', required: true, schema: text },
          'Set-Cookie': { description: '`tally_session`.', required: true, schema: text },
        },
      },
      401: { description: 'Wrong key, or the secret key: the form again with the reason.', content: { 'text/html': { schema: text } } },
      403: {
        description: 'Posted from another site (`Sec-Fetch-Site`, or `Origin` naming another host): nobody is signed in; a page says so.',
        content: { 'text/html': { schema: text } },
      },
    },
  },
  'POST /dashboard/sign-out': {
    operationId: 'postDashboardSignOut',
    summary: 'Sign out',
    tags: ['dashboard'],
    auth: 'none',
    responses: {
      303: { description: 'The cookie cleared, back to /dashboard.', headers: { Location: { description: '`/dashboard`.', required: true, schema: text } } },
      403: { description: 'Posted from another site: nobody is signed out; a page says so.', content: { 'text/html': { schema: text } } },
    },
  },
  'GET /dashboard/assets/:file': {
    operationId: 'getDashboardAsset',
    summary: "The dashboard's scripts and styles (uPlot included)",
    tags: ['dashboard'],
    auth: 'none',
    path: { file: { description: 'A file name: `app.js`, `app.css`, `favicon.svg`, `uPlot.iife.min.js`, `uPlot.min.css`.' } },
    responses: {
      200: {
        description: 'JavaScript, CSS or the SVG icon.',
        content: { 'text/javascript': { schema: text }, 'text/css': { schema: text }, 'image/svg+xml': { schema: text } },
      },
      404: error('`not_found`: no such file.'),
    },
  },
}

/**
 * Registered routes left out of the document, each with the reason. A trailing-slash path is a
 * redirect for people who type it; as an API path it would be ambiguous with the one it redirects to.
 */
export const UNLISTED: Record<string, string> = { 'GET /dashboard/': 'redirects to /dashboard (301), described there' }
