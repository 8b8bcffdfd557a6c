/**
 * The evidence export as a read task (engines/sqlite/reader.ts runs it on its own thread and
 * connection): the rows of services/evidence.ts, formatted by domain/evidence-csv.ts.
 */
import { evidenceChunks } from '../domain/evidence-csv.js'
import { invoiceEvidence, type EvidenceReader } from './evidence.js'
import type { EvidenceExport } from './store.js'

export default function exportEvidence(repo: EvidenceReader, req: EvidenceExport): AsyncIterable<Uint8Array> {
  return evidenceChunks(invoiceEvidence(repo, req), req.format)
}
