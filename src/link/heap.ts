/**
 * A binary min-heap under a comparison function: push and pop in O(log n), peek in O(1). Entries are not
 * removed from the middle; callers mark them stale and skip them when they surface (lazy deletion). Each entry
 * may carry a number (a tag, e.g. the version of the value it was filed under) in a parallel array, so that a
 * large heap holds no wrapper object per entry.
 */
export class Heap<T> {
  private readonly a: T[] = [];
  private readonly tags: number[] = [];

  constructor(private readonly less: (x: T, y: T) => boolean) {}

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0];
  }

  /** The tag pushed with the top entry. */
  peekTag(): number | undefined {
    return this.tags[0];
  }

  push(v: T, tag = 0): void {
    const { a, tags } = this;
    a.push(v);
    tags.push(tag);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): T | undefined {
    const { a, tags } = this;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    const lastTag = tags.pop()!;
    if (a.length > 0) {
      a[0] = last;
      tags[0] = lastTag;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  /** Drops every entry. */
  clear(): void {
    this.a.length = 0;
    this.tags.length = 0;
  }

  private swap(i: number, j: number): void {
    const { a, tags } = this;
    const v = a[i]!;
    a[i] = a[j]!;
    a[j] = v;
    const g = tags[i]!;
    tags[i] = tags[j]!;
    tags[j] = g;
  }
}
