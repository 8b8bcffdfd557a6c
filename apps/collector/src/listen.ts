/**
 * Listening on a port, with the one failure a user meets on a first run named: the port is
 * taken (docs/protocol.md §8: one line naming it, exit 2, not a stack trace).
 */
import type { Server } from 'node:http'

/** A port another process holds: the CLI names it and the way to choose another, and exits 2. */
export class PortInUse extends Error {
  override readonly name = 'PortInUse'
  constructor(readonly port: number) {
    super(`port ${port} is already in use`)
  }
}

/** Listens, or rejects with `PortInUse` when the port is taken (any other error as it is). */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUse(port) : err)
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
      resolve()
    })
  })
}
