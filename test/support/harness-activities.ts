export function greet(name: string): Promise<string> {
  return Promise.resolve(`hello, ${name}`);
}
