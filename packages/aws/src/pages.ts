/**
 * Every page of an AWS list operation that pages with NextToken, one after another: `fetch` gets
 * the previous page's token (undefined for the first) and makes the call. A caller that has what
 * it wants stops early by leaving the loop.
 */
export async function* pages<Page extends { NextToken?: string | undefined }>(
  fetch: (token: string | undefined) => Promise<Page>,
): AsyncGenerator<Page> {
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield page;
    token = page.NextToken;
  } while (token !== undefined);
}

/** The request's NextToken member, absent on the first call. */
export const nextToken = (token: string | undefined) => (token === undefined ? {} : { NextToken: token });
