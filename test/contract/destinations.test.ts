import { destinations } from './destinations.ts'
import { describeDestination } from './harness.ts'

for (const destination of destinations) describeDestination(destination, await destination.missing?.())
