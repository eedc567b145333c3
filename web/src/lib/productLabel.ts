/**
 * How a product is named on screen: "Croissant (Almond)". Products of one name differ only
 * by their variation, so every list, title and label that names a product shows it.
 */
export function productLabel(name: string, variation?: string | null): string {
  return variation ? `${name} (${variation})` : name;
}
