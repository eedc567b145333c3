import { describe, expect, it } from 'vitest';
import { isMoneyInput, isValidBarcode, parseStockChange, stockStatus } from './logic';

describe('stockStatus', () => {
  it('follows the server rule: out at 0, low at or below the threshold', () => {
    expect(stockStatus(0, 10)).toBe('out');
    expect(stockStatus(10, 10)).toBe('low');
    expect(stockStatus(1, 10)).toBe('low');
    expect(stockStatus(11, 10)).toBe('ok');
  });
  it('without a threshold only tells "out"', () => {
    expect(stockStatus(3, null)).toBe('ok');
    expect(stockStatus(0, null)).toBe('out');
  });
});

describe('isValidBarcode', () => {
  it('accepts the demo EAN-13 codes and a UPC-A', () => {
    expect(isValidBarcode('8991234000015')).toBe(true);
    expect(isValidBarcode('8991234500010')).toBe(true);
    expect(isValidBarcode('036000291452')).toBe(true); // UPC-A
  });
  it('refuses a wrong check digit, a wrong length and letters', () => {
    expect(isValidBarcode('8991234000016')).toBe(false);
    expect(isValidBarcode('1234567890123')).toBe(false);
    expect(isValidBarcode('036000291453')).toBe(false);
    expect(isValidBarcode('89912340000')).toBe(false);
    expect(isValidBarcode('89912340000a5')).toBe(false);
  });
});

describe('isMoneyInput', () => {
  it('takes whole amounts and up to two decimals', () => {
    expect(isMoneyInput('18000')).toBe(true);
    expect(isMoneyInput('18000.5')).toBe(true);
    expect(isMoneyInput('18000.50')).toBe(true);
  });
  it('refuses separators, three decimals and negatives', () => {
    expect(isMoneyInput('18.000,00')).toBe(false);
    expect(isMoneyInput('1.234')).toBe(false);
    expect(isMoneyInput('-5')).toBe(false);
    expect(isMoneyInput('')).toBe(false);
  });
});

describe('parseStockChange', () => {
  it('a restock is a positive whole number', () => {
    expect(parseStockChange('12', 'restock')).toBe(12);
    expect(parseStockChange('+12', 'restock')).toBe(12);
    expect(parseStockChange('-3', 'restock')).toBeNull();
    expect(parseStockChange('0', 'restock')).toBeNull();
    expect(parseStockChange('1.5', 'restock')).toBeNull();
  });
  it('an adjustment is signed and never zero', () => {
    expect(parseStockChange('-3', 'adjustment')).toBe(-3);
    expect(parseStockChange(' 4 ', 'adjustment')).toBe(4);
    expect(parseStockChange('0', 'adjustment')).toBeNull();
    expect(parseStockChange('abc', 'adjustment')).toBeNull();
  });
});
