import {
  Bar,
  BarChart,
  CartesianGrid,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from 'recharts'
import { CHANGE_SERIES, type ChangeSeries, type DashboardView } from '../../api/dashboard.ts'

/** Series colours: the tokens' success / accent / warning / danger (SVG fills take no CSS variables in every browser). */
export const SERIES_COLOR: Record<ChangeSeries, string> = {
  created: '#23804f',
  updated: '#2f6fde',
  disabled: '#a8660b',
  deleted: '#c2352f',
}

type Day = DashboardView['changes']['perDay'][number]

const dayLabel = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, {
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  })

function ChangeTooltip({ active, payload, label }: TooltipContentProps) {
  if (!active || !payload?.length) return null
  const day = payload[0]?.payload as Day | undefined
  return (
    <div className="chart-tooltip">
      <strong>{dayLabel(String(label))}</strong>
      <ul>
        {CHANGE_SERIES.map((s) => (
          <li key={s} className="row">
            <span className="swatch" style={{ background: SERIES_COLOR[s] }} />
            <span className="grow">{s}</span>
            <strong>{day?.[s] ?? 0}</strong>
          </li>
        ))}
      </ul>
      <div className="faint">Click a bar to see its objects</div>
    </div>
  )
}

/**
 * Objects created / updated / disabled / deleted per UTC day as stacked bars; clicking a bar opens the
 * history of that day and series. Loaded lazily by the dashboard (recharts is the largest dependency).
 */
export default function ChangeChart(props: {
  perDay: Day[]
  onSelect: (day: Day, series: ChangeSeries) => void
}) {
  return (
    <div className="chart-area" data-testid="change-chart">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={props.perDay} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} barCategoryGap="22%">
          <CartesianGrid vertical={false} stroke="#dfe3e8" />
          <XAxis
            dataKey="day"
            tickFormatter={dayLabel}
            tick={{ fontSize: 11, fill: '#556070' }}
            tickLine={false}
            axisLine={{ stroke: '#c6ccd4' }}
            minTickGap={12}
          />
          <YAxis
            allowDecimals={false}
            tick={{ fontSize: 11, fill: '#556070' }}
            tickLine={false}
            axisLine={false}
            width={40}
          />
          <Tooltip content={ChangeTooltip} cursor={{ fill: '#eef0f3' }} isAnimationActive={false} />
          {CHANGE_SERIES.map((s) => (
            <Bar
              key={s}
              dataKey={s}
              name={s}
              stackId="changes"
              fill={SERIES_COLOR[s]}
              isAnimationActive={false}
              maxBarSize={36}
              onClick={(item) => props.onSelect(item.payload as Day, s)}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  )
}
