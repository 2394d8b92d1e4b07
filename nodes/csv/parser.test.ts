import { describe, expect, it } from 'vitest'
import { ChunkDecoder, invalidUtf8, type InvalidBytes, type TextEncoding } from './decoder.ts'
import { CsvLineTooLongError, CsvParser, type CsvDialect, type CsvProblem } from './parser.ts'

type Parsed = { records: { line: number; fields: string[] }[]; problems: CsvProblem[] }

/** Parse text in chunks of every size from 1 to 7 and whole; all must agree. */
function parse(
  text: string | Buffer,
  options: Partial<CsvDialect> & { encoding?: TextEncoding } = {},
): Parsed {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text
  const whole = parseWhole(bytes, options)
  for (const size of [1, 2, 3, 5, 7]) expect(parseWhole(bytes, { ...options, size })).toEqual(whole)
  return whole
}

function parseWhole(
  bytes: Buffer,
  options: Partial<CsvDialect> & { size?: number; encoding?: TextEncoding; max?: number } = {},
): Parsed {
  const out: Parsed = { records: [], problems: [] }
  const parser = new CsvParser(
    {
      delimiter: options.delimiter ?? ',',
      quote: options.quote ?? '"',
      relaxQuotes: options.relaxQuotes ?? false,
    },
    {
      record: (fields, line) => out.records.push({ line, fields: [...fields] }),
      malformed: (problem) => out.problems.push(problem),
    },
    options.max,
  )
  const decoder = new ChunkDecoder(options.encoding ?? 'utf8')
  const size = options.size ?? bytes.length + 1
  for (let i = 0; i < bytes.length; i += size) {
    const invalid: InvalidBytes[] = []
    parser.push(decoder.write(bytes.subarray(i, i + size), invalid), invalid)
  }
  const invalid: InvalidBytes[] = []
  const rest = decoder.end(invalid)
  parser.push(rest, invalid)
  parser.end()
  return out
}

const fields = (parsed: Parsed) => parsed.records.map((r) => r.fields)

describe('CsvParser (RFC 4180)', () => {
  it('splits plain lines, keeps empty fields and a trailing delimiter', () => {
    expect(fields(parse('a,b,c\n1,,3\n,,\nx,y,\n'))).toEqual([
      ['a', 'b', 'c'],
      ['1', '', '3'],
      ['', '', ''],
      ['x', 'y', ''],
    ])
  })

  it('reads quoted fields: delimiters, doubled quotes, line breaks of every kind, empty quotes', () => {
    const parsed = parse('id,note\n1,"a, b"\n2,"say ""hi"""\n3,"one\ntwo\r\nthree\rfour"\n4,""\n5,""""\n')
    expect(fields(parsed)).toEqual([
      ['id', 'note'],
      ['1', 'a, b'],
      ['2', 'say "hi"'],
      ['3', 'one\ntwo\r\nthree\rfour'],
      ['4', ''],
      ['5', '"'],
    ])
    // Line numbers count the breaks inside quoted fields.
    expect(parsed.records.map((r) => r.line)).toEqual([1, 2, 3, 4, 8, 9])
  })

  it('ends lines with CRLF, LF or CR, mixed, and skips empty lines of each kind', () => {
    const parsed = parse('a,b\r\n1,2\n3,4\r5,6\r\n\r\n\n\r7,8')
    expect(fields(parsed)).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
      ['7', '8'],
    ])
    expect(parsed.records.map((r) => r.line)).toEqual([1, 2, 3, 4, 8])
  })

  it('reads the same records from CRLF, LF and CR files, quoted fields and bad lines included', () => {
    const text = 'a,b\n1,"x,\ny"\n\n2,plain\n3,"bad"x\n4,"""last"""\n'
    const lf = parse(text)
    for (const eol of ['\r\n', '\r']) {
      const other = parse(text.replaceAll('\n', eol))
      expect(fields(other)).toEqual(fields(lf).map((r) => r.map((f) => f.replaceAll('\n', eol))))
      expect(other.records.map((r) => r.line)).toEqual(lf.records.map((r) => r.line))
      expect(other.problems.map((p) => [p.line, p.raw])).toEqual([[6, '3,"bad"x']])
    }
    expect(fields(lf)).toEqual([
      ['a', 'b'],
      ['1', 'x,\ny'],
      ['2', 'plain'],
      ['4', '"last"'],
    ])
  })

  it('reads a last line without a line break, quoted or not, and a lone field', () => {
    expect(fields(parse('a\n1'))).toEqual([['a'], ['1']])
    expect(fields(parse('a,b\n1,"x"'))).toEqual([
      ['a', 'b'],
      ['1', 'x'],
    ])
    expect(fields(parse(''))).toEqual([])
    expect(fields(parse('\n\n'))).toEqual([])
  })

  it('takes other delimiters (several characters too) and quote characters', () => {
    expect(fields(parse("a;'x;''y'\n", { delimiter: ';', quote: "'" }))).toEqual([['a', "x;'y"]])
    expect(fields(parse('a||b||"c||d"\n', { delimiter: '||' }))).toEqual([['a', 'b', 'c||d']])
    expect(fields(parse('a\tb\n', { delimiter: '\t' }))).toEqual([['a', 'b']])
  })

  it('strips a UTF-8 byte order mark, and a UTF-16LE one decides the encoding', () => {
    expect(fields(parse(Buffer.from('\ufeffid,name\n1,Zoë\n')))).toEqual([
      ['id', 'name'],
      ['1', 'Zoë'],
    ])
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,"n,1"\n1,Zoë 😀\n', 'utf16le')])
    expect(fields(parse(utf16))).toEqual([
      ['id', 'n,1'],
      ['1', 'Zoë 😀'],
    ])
    expect(fields(parse(Buffer.from('a\né\n', 'latin1'), { encoding: 'latin1' }))).toEqual([['a'], ['é']])
    // Characters split across chunks stay whole.
    expect(fields(parse('x,😀é€\n'))).toEqual([['x', '😀é€']])
  })

  it('reports a stray quote in an unquoted field, unless relaxQuotes reads it as text', () => {
    const text = "place,lat\nMoscow,55°45'N\nSomewhere,37°36'37.8\"N\nParis,48°51'N\n"
    const strict = parse(text)
    expect(fields(strict)).toEqual([
      ['place', 'lat'],
      ['Moscow', "55°45'N"],
      ['Paris', "48°51'N"],
    ])
    expect(strict.problems).toEqual([
      {
        code: 'CSV_MALFORMED',
        line: 3,
        raw: 'Somewhere,37°36\'37.8"N',
        reason:
          'a quote (") inside an unquoted field; quote the field and write the quote twice, or turn on "Stray quotes" to read it as text',
      },
    ])
    expect(fields(parse(text, { relaxQuotes: true }))[2]).toEqual(['Somewhere', '37°36\'37.8"N'])
  })

  it('reports an unclosed quote at its own line and reads the lines after it again', () => {
    const parsed = parse('id,name\n1,Ann\n2,"Bob\n3,Carl\n4,"Dan",x\n5,Eve\n')
    expect(parsed.problems.map((p) => [p.line, p.raw])).toEqual([[3, '2,"Bob']])
    expect(parsed.problems[0]!.reason).toBe(
      'a quoted field opened on this line is not closed properly: the next quote, on line 5, is followed by text',
    )
    expect(fields(parsed)).toEqual([
      ['id', 'name'],
      ['1', 'Ann'],
      ['3', 'Carl'],
      ['4', 'Dan', 'x'],
      ['5', 'Eve'],
    ])
    expect(parsed.records.map((r) => r.line)).toEqual([1, 2, 4, 5, 6])
    const atEnd = parse('id,name\n1,"Ann\n2,Bob\n')
    expect(atEnd.problems.map((p) => [p.line, p.raw, p.reason])).toEqual([
      [2, '1,"Ann', 'a quoted field opened on this line is never closed'],
    ])
    expect(fields(atEnd)).toEqual([
      ['id', 'name'],
      ['2', 'Bob'],
    ])
  })

  it('gives up on an unclosed quote after the record limit, and refuses a line longer than it', () => {
    const body = Array.from({ length: 50 }, (_, i) => `${i},x`).join('\n')
    const parsed = parseWhole(Buffer.from(`a,b\n1,"open\n${body}\n`), { size: 16, max: 64 })
    expect(parsed.problems.map((p) => p.line)).toEqual([2])
    expect(parsed.records).toHaveLength(51)
    expect(() => parseWhole(Buffer.from(`a\n${'x'.repeat(200)}\n`), { size: 16, max: 64 })).toThrow(
      CsvLineTooLongError,
    )
  })

  it('reports invalid UTF-8 with the line and byte offset, as one bad record, and goes on', () => {
    const bytes = Buffer.concat([
      Buffer.from('id,name\n1,Ann\n2,Ren'),
      Buffer.from([0xe9]),
      Buffer.from('e\n3,"multi\nline ok"\n4,"x\n'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"\n5,Zoë\n'),
    ])
    const parsed = parse(bytes)
    expect(fields(parsed)).toEqual([
      ['id', 'name'],
      ['1', 'Ann'],
      ['3', 'multi\nline ok'],
      ['5', 'Zoë'],
    ])
    expect(parsed.problems).toEqual([
      {
        code: 'CSV_INVALID_UTF8',
        line: 3,
        raw: '2,Ren\ufffde',
        reason:
          'byte 0xE9 at byte offset 19 is not valid UTF-8; if the file is Latin-1 or Windows-1252, set "Encoding" to latin1',
      },
      {
        code: 'CSV_INVALID_UTF8',
        line: 6,
        raw: '4,"x\n\ufffd("',
        reason:
          'byte 0xC3 at byte offset 45 is not valid UTF-8; if the file is Latin-1 or Windows-1252, set "Encoding" to latin1',
      },
    ])
    expect(parsed.records.at(-1)!.line).toBe(8)
  })

  it('finds invalid UTF-8 sequences as the WHATWG decoder replaces them', () => {
    const bytes = Buffer.from([
      0x61, 0xe9, 0x62, 0xf0, 0x9f, 0x98, 0x41, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xe2, 0x82, 0xac,
    ])
    const found = invalidUtf8(bytes)
    expect(found).toEqual([1, 3, 7, 8, 9, 10, 11])
    expect(bytes.toString('utf8').split('\ufffd').length - 1).toBe(found.length)
  })
})
