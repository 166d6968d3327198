/** A list of listeners: `add` returns the function that removes one; `emit` calls each in order. */
export class Listeners<T> {
  private readonly list: Array<(event: T) => void> = [];

  add(listener: (event: T) => void): () => void {
    this.list.push(listener);
    return () => {
      const at = this.list.indexOf(listener);
      if (at >= 0) this.list.splice(at, 1);
    };
  }

  /** Calls every listener registered now (one that removes itself or another does not skip anyone). */
  emit(event: T): void {
    for (const listener of this.list.slice()) listener(event);
  }
}
