/** The Jaeger UI's page for a trace, with the span highlighted. */
export function jaegerTraceUrl({
  traceId,
  spanId,
  baseUrl = 'http://localhost:16686',
}: {
  traceId: string;
  spanId?: string;
  baseUrl?: string;
}): string {
  const url = new URL(`/trace/${traceId}`, baseUrl);
  if (spanId) url.searchParams.set('uiFind', spanId);
  return url.toString();
}
