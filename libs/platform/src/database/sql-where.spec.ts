import { sqlWhere } from './sql-where';

describe('sqlWhere', () => {
  it('joins the conditions whose filter is set, with their parameters in order', () => {
    const from = new Date(0);
    expect(sqlWhere([['a = ?', 1], undefined, ['(b IS NULL OR b >= ?)', from], false, ['(c = ? OR d = ?)', 'x', 'y']])).toEqual({
      sql: 'WHERE a = ? AND (b IS NULL OR b >= ?) AND (c = ? OR d = ?)',
      params: [1, from, 'x', 'y'],
    });
  });

  it('is empty when no filter is set', () => {
    expect(sqlWhere([undefined, false, null, ''])).toEqual({ sql: '', params: [] });
  });
});
