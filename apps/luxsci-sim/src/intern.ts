// String interning for ledger columns that repeat across a million messages (subjects, from
// addresses, non-chid headers): each distinct value is stored once, entries keep an int.
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  value(id: number): string {
    return this.values[id] as string;
  }

  get size(): number {
    return this.values.length;
  }
}
