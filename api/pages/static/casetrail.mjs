// Progressive enhancement only: GOV.UK Frontend's components; every page works without it.
import { initAll } from './vendor/govuk-frontend.min.js'

initAll()
