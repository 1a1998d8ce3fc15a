/**
 * One pg client answers one query at a time. pg 8 queues a query sent while another runs, with a
 * DeprecationWarning ("client.query() when the client is already executing a query"); pg 9 will
 * refuse it. Everything that shares a client sends through one of these, so queries take turns.
 */
export function takeTurns(): <T>(send: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(send: () => Promise<T>): Promise<T> => {
    const turn = tail.then(send);
    tail = turn.catch(() => undefined);
    return turn;
  };
}
